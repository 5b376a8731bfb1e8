"""FOCUS cost exports (CSV, gzipped CSV, Parquet) read by DuckDB straight into core.costs.

A FOCUS file is already the canonical record: its columns are core.costs' columns. Landing it as
JSON in raw.* first would double the storage and cost most of the load time for no gain (a file
can always be read again), so each file is loaded straight into core.costs: in one transaction its
old rows are deleted, its new rows inserted and meta.loaded_files updated. A file whose content
hash is unchanged is skipped; a changed file (providers restate the current month) replaces its
rows. core.costs rows with source 'focus' therefore have no staging SQL. A file that disappears
from FOCUS_PATHS keeps its rows (exports are often archived or rotated away).

Only FOCUS is read. Native exports (AWS CUR, Azure EA/MCA cost details, OCI cost reports) are
refused with an error naming the file and the FOCUS columns it lacks: export FOCUS from the
provider (all three offer a FOCUS export) or convert first; AWS and Azure spend can also come
through the aws_ce and azure_cost API sources.

Tag keys (FOCUS_TAG_COST_CENTRE / _SERVICE / _APPLICATION, comma lists) fill the allocation
columns; keys compare without case or separators. One currency per warehouse: a file that would
mix currencies is refused unless FOCUS_CURRENCY and FOCUS_EXCHANGE_RATES convert it.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import duckdb

from connectors.cost_allocation import Currency, TagKeys
from connectors.files import (
    content_hash,
    expand_paths,
    loaded_hash,
    record_loaded_file,
    split_patterns,
)
from connectors.http import PermanentSourceError, SourceError
from connectors.progress import Progress
from warehouse.transaction import transaction

log = logging.getLogger(__name__)

SOURCE = "focus"

# FOCUS 1.0-1.2 columns this project reads, with the type core.costs stores them as.
MANDATORY_COLUMNS: dict[str, str] = {
    "BilledCost": "DECIMAL(38, 12)",
    "EffectiveCost": "DECIMAL(38, 12)",
    "ListCost": "DECIMAL(38, 12)",
    "ContractedCost": "DECIMAL(38, 12)",
    "BillingPeriodStart": "TIMESTAMPTZ",
    "BillingPeriodEnd": "TIMESTAMPTZ",
    "ChargePeriodStart": "TIMESTAMPTZ",
    "ChargePeriodEnd": "TIMESTAMPTZ",
    "BillingCurrency": "VARCHAR",
    "BillingAccountId": "VARCHAR",
    "ChargeCategory": "VARCHAR",
    "ServiceCategory": "VARCHAR",
    "ServiceName": "VARCHAR",
    "ProviderName": "VARCHAR",
    "PublisherName": "VARCHAR",
    "InvoiceIssuerName": "VARCHAR",
}
OPTIONAL_COLUMNS: dict[str, str] = {
    "BillingAccountName": "VARCHAR",
    "ChargeClass": "VARCHAR",
    "ChargeDescription": "VARCHAR",
    "SubAccountId": "VARCHAR",
    "SubAccountName": "VARCHAR",
    "RegionId": "VARCHAR",
    "RegionName": "VARCHAR",
    "ResourceId": "VARCHAR",
    "ResourceName": "VARCHAR",
    "ResourceType": "VARCHAR",
    "SkuId": "VARCHAR",
    "PricingQuantity": "DOUBLE",
    "PricingUnit": "VARCHAR",
    "ConsumedQuantity": "DOUBLE",
    "ConsumedUnit": "VARCHAR",
    "Tags": "VARCHAR",
}
# FOCUS 1.0 ServiceCategory values; exports spell them in any case.
SERVICE_CATEGORIES = (
    "AI and Machine Learning",
    "Analytics",
    "Business Applications",
    "Compute",
    "Databases",
    "Developer Tools",
    "Multicloud",
    "Identity",
    "Integration",
    "Internet of Things",
    "Management and Governance",
    "Media",
    "Migration",
    "Mobile",
    "Networking",
    "Security",
    "Storage",
    "Web",
    "Other",
)


def file_reader(path: Path) -> tuple[str, str]:
    """The DuckDB table function reading $path, and the expression numbering its line items.

    CSV is read as text so the casts stay ours. Parquet numbers rows itself, which keeps the scan
    parallel; a CSV scan keeps file order, so row_number() numbers its lines in order too.
    """
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "read_parquet($path, file_row_number = true)", "file_row_number + 1"
    if name.endswith((".csv", ".csv.gz", ".gz", ".txt")):
        return (
            "read_csv($path, header = true, all_varchar = true, nullstr = ['NULL', ''])",
            "row_number() OVER ()",
        )
    raise SourceError(f"{SOURCE}: {path}: not a FOCUS export (.csv, .csv.gz or .parquet expected)")


# Tags repeat across line items (one set per resource), so they are parsed and allocated once per
# distinct set and joined back. tag_sets scans the file's Tags column on its own so that
# line_items stays a single streaming scan (a CTE read twice would be held in memory).
LOAD_SQL = """
WITH line_items AS (
    SELECT {line_number} AS line_number, {typed_columns}
    FROM {reader}
),
tag_sets AS (
    SELECT DISTINCT tag_text AS Tags
    FROM (SELECT {tags} AS tag_text FROM {reader})
    WHERE tag_text IS NOT NULL
),
parsed_tags AS (
    SELECT Tags, try_cast(try_cast(Tags AS JSON) AS MAP(VARCHAR, VARCHAR)) AS tag_map
    FROM tag_sets
),
normalised_tags AS (
    SELECT Tags, tag_map,
        list_transform(map_entries(tag_map), lambda e: {{
            'key': regexp_replace(lower(e.key), '[^a-z0-9]', '', 'g'), 'value': e.value
        }}) AS tag_entries
    FROM parsed_tags
),
allocations AS (
    SELECT
        Tags,
        CASE WHEN tag_map IS NOT NULL THEN CAST(Tags AS JSON) END AS tags_json,
        list_filter(
            list_transform($cost_centre_keys,
                lambda k: list_filter(tag_entries, lambda e: e.key = k)[1].value),
            lambda v: v IS NOT NULL AND v <> '')[1] AS cost_centre,
        list_filter(
            list_transform($service_keys,
                lambda k: list_filter(tag_entries, lambda e: e.key = k)[1].value),
            lambda v: v IS NOT NULL AND v <> '')[1] AS service,
        list_filter(
            list_transform($application_keys,
                lambda k: list_filter(tag_entries, lambda e: e.key = k)[1].value),
            lambda v: v IS NOT NULL AND v <> '')[1] AS application
    FROM normalised_tags
),
priced AS (
    SELECT
        line_items.*,
        allocations.tags_json,
        allocations.cost_centre,
        allocations.service,
        allocations.application,
        upper(trim(BillingCurrency)) AS currency_code,
        $rate_values[list_position($rate_currencies, upper(trim(BillingCurrency)))] AS rate
    FROM line_items
    LEFT JOIN allocations USING (Tags)
)
INSERT INTO core.costs BY NAME
SELECT
    $id_prefix || line_number AS cost_id,
    'focus' AS source,
    $file AS source_file,
    BillingAccountId,
    BillingAccountName,
    CASE WHEN rate IS NULL THEN currency_code ELSE $reporting END AS BillingCurrency,
    BillingPeriodStart,
    BillingPeriodEnd,
    ChargePeriodStart,
    ChargePeriodEnd,
    upper(left(trim(ChargeCategory), 1)) || lower(substr(trim(ChargeCategory), 2))
        AS ChargeCategory,
    upper(left(trim(ChargeClass), 1)) || lower(substr(trim(ChargeClass), 2)) AS ChargeClass,
    ChargeDescription,
    CASE WHEN rate IS NULL THEN BilledCost ELSE CAST(BilledCost * rate AS DECIMAL(38, 12)) END
        AS BilledCost,
    CASE WHEN rate IS NULL THEN EffectiveCost
         ELSE CAST(EffectiveCost * rate AS DECIMAL(38, 12)) END AS EffectiveCost,
    CASE WHEN rate IS NULL THEN ListCost ELSE CAST(ListCost * rate AS DECIMAL(38, 12)) END
        AS ListCost,
    CASE WHEN rate IS NULL THEN ContractedCost
         ELSE CAST(ContractedCost * rate AS DECIMAL(38, 12)) END AS ContractedCost,
    ProviderName,
    PublisherName,
    InvoiceIssuerName,
    coalesce(
        $service_categories[list_position($service_category_keys, lower(trim(ServiceCategory)))],
        ServiceCategory
    ) AS ServiceCategory,
    ServiceName,
    SubAccountId,
    SubAccountName,
    RegionId,
    RegionName,
    ResourceId,
    ResourceName,
    ResourceType,
    SkuId,
    PricingQuantity,
    PricingUnit,
    ConsumedQuantity,
    ConsumedUnit,
    tags_json AS Tags,
    cost_centre,
    service,
    application,
    now() AS loaded_at
FROM priced
"""

MISSING_VALUES_SQL = """
WITH file_rows AS (
    SELECT cost_id, BilledCost, EffectiveCost, ChargePeriodStart, BillingCurrency
    FROM core.costs
    WHERE source = 'focus' AND source_file = $file
),
missing AS (
    UNPIVOT (
        SELECT cost_id,
            (BilledCost IS NULL)::INTEGER AS BilledCost,
            (EffectiveCost IS NULL)::INTEGER AS EffectiveCost,
            (ChargePeriodStart IS NULL)::INTEGER AS ChargePeriodStart,
            (BillingCurrency IS NULL)::INTEGER AS BillingCurrency
        FROM file_rows
    ) ON BilledCost, EffectiveCost, ChargePeriodStart, BillingCurrency
    INTO NAME field VALUE is_missing
)
INSERT INTO scorecard.data_quality
SELECT 'focus', 'costs', $file || '#' || split_part(cost_id, ':', 3), field,
       'missing or unparseable mandatory value', NULL, now()
FROM missing
WHERE is_missing = 1
"""


class FocusFiles:
    """FileSource for FOCUS exports named by glob patterns (FOCUS_PATHS)."""

    name = SOURCE

    def __init__(
        self,
        patterns: list[str],
        tag_keys: TagKeys | None = None,
        currency: Currency | None = None,
    ) -> None:
        self.patterns = patterns
        self.tag_keys = tag_keys or TagKeys()
        self.currency = currency or Currency()

    def load(self, con: duckdb.DuckDBPyConnection, run_id: str | None) -> dict[str, int]:
        """Load every new or changed file; report all bad files together after loading the rest."""
        loaded = 0
        problems: list[str] = []
        files = expand_paths(SOURCE, "FOCUS_PATHS", self.patterns)
        progress = Progress(SOURCE, log, unit="line items")
        for number, path in enumerate(files, 1):
            try:
                rows = self.load_file(con, path, run_id)
            except SourceError as exc:
                problems.append(str(exc))
                _record_file_problem(con, path, str(exc))
                continue
            loaded += rows
            progress.add(rows, f"file {number} of {len(files)}")
        progress.finish(f"{len(files)} files, {len(problems)} refused")
        if problems:
            # A bad file stays bad until someone replaces it: retrying the step cannot help.
            raise PermanentSourceError("; ".join(problems))
        return {"costs": loaded}

    def load_file(self, con: duckdb.DuckDBPyConnection, path: Path, run_id: str | None) -> int:
        """Replace one file's rows unless its content is unchanged; returns rows inserted."""
        digest = content_hash(path)
        if loaded_hash(con, SOURCE, path) == digest:
            log.info("focus: %s unchanged, skipped", path)
            return 0
        reader, line_number = file_reader(path)
        columns = self._columns(con, path, reader)
        params = self._params(path)
        with transaction(con):
            con.execute(
                "DELETE FROM core.costs WHERE source = 'focus' AND source_file = ?", [str(path)]
            )
            # Keys are the path (file problems) or path#line; a bare prefix would also clear
            # the problems of a sibling such as costs.csv.gz when costs.csv reloads.
            con.execute(
                "DELETE FROM scorecard.data_quality WHERE source = 'focus'"
                " AND (record_key = $file OR starts_with(record_key, $file || '#'))",
                {"file": str(path)},
            )
            typed = _typed_columns(columns)
            sql = LOAD_SQL.format(
                typed_columns=",\n        ".join(f"{e} AS {c}" for c, e in typed.items()),
                tags=typed["Tags"],
                reader=reader,
                line_number=line_number,
            )
            rows = con.execute(sql, params).fetchall()[0][0]
            self._check_currency(con, path)
            con.execute(MISSING_VALUES_SQL, {"file": str(path)})
            record_loaded_file(con, SOURCE, path, digest, rows, run_id)
        log.info("focus: %s loaded, %d line items", path, rows)
        return rows

    def _columns(
        self, con: duckdb.DuckDBPyConnection, path: Path, reader: str
    ) -> dict[str, tuple[str, str]]:
        """The file's (name, type) by lower-cased name; a missing mandatory column is an error."""
        try:
            described = con.execute(f"DESCRIBE SELECT * FROM {reader}", {"path": str(path)})
            names = [(row[0], row[1]) for row in described.fetchall()]
        except duckdb.Error as exc:
            raise SourceError(f"focus: cannot read {path}: {exc}") from exc
        present = {name.lower(): (name, sql_type) for name, sql_type in names}
        missing = [c for c in MANDATORY_COLUMNS if c.lower() not in present]
        if missing:
            raise SourceError(
                f"focus: {path} is not a FOCUS 1.0-1.2 export: missing mandatory column(s) "
                f"{', '.join(missing)} (native AWS CUR, Azure EA and OCI exports must be "
                "converted to FOCUS or exported as FOCUS by the provider)"
            )
        return present

    def _params(self, path: Path) -> dict[str, Any]:
        file_key = hashlib.sha256(str(path).encode()).hexdigest()[:12]
        currencies = sorted(self.currency.rates)
        return {
            "path": str(path),
            "file": str(path),
            "id_prefix": f"focus:{file_key}:",
            "reporting": self.currency.reporting,
            "rate_currencies": currencies or [""],
            "rate_values": [self.currency.rates[c] for c in currencies] or [None],
            "service_categories": list(SERVICE_CATEGORIES),
            "service_category_keys": [c.lower() for c in SERVICE_CATEGORIES],
            "cost_centre_keys": self.tag_keys.normalised("cost_centre"),
            "service_keys": self.tag_keys.normalised("service"),
            "application_keys": self.tag_keys.normalised("application"),
        }

    def _check_currency(self, con: duckdb.DuckDBPyConnection, path: Path) -> None:
        """Sums across currencies are meaningless: refuse a file that would mix them."""
        rows = con.execute(
            """
            SELECT BillingCurrency, list(DISTINCT coalesce(source_file, source)) AS origins
            FROM core.costs
            WHERE BillingCurrency IS NOT NULL
            GROUP BY BillingCurrency
            ORDER BY BillingCurrency
            """
        ).fetchall()
        currencies = [r[0] for r in rows]
        if self.currency.reporting and currencies in ([], [self.currency.reporting]):
            return
        if len(currencies) <= 1 and not self.currency.reporting:
            return
        described = "; ".join(f"{code} from {', '.join(sorted(o)[:3])}" for code, o in rows)
        raise SourceError(
            f"focus: {path} would mix currencies in core.costs ({described}). Keep one currency "
            "per warehouse, or set FOCUS_CURRENCY and FOCUS_EXCHANGE_RATES (e.g. EUR=1.08) to "
            "convert"
        )


def _typed_columns(present: dict[str, tuple[str, str]]) -> dict[str, str]:
    """Each FOCUS column's expression cast to its core type; a column the file lacks is NULL.

    Text is trimmed before the cast (exports pad values); typed Parquet columns cast directly.
    """
    expressions = {}
    for column, sql_type in {**MANDATORY_COLUMNS, **OPTIONAL_COLUMNS}.items():
        actual = present.get(column.lower())
        if actual is None:
            expressions[column] = f"CAST(NULL AS {sql_type})"
            continue
        name, file_type = actual
        quoted = '"' + name.replace('"', '""') + '"'
        value = f"trim({quoted})" if file_type == "VARCHAR" else quoted
        expressions[column] = f"try_cast({value} AS {sql_type})"
    return expressions


def _record_file_problem(con: duckdb.DuckDBPyConnection, path: Path, problem: str) -> None:
    con.execute(
        "DELETE FROM scorecard.data_quality WHERE source = 'focus' AND record_key = ?", [str(path)]
    )
    con.execute(
        "INSERT INTO scorecard.data_quality VALUES ('focus', 'costs', ?, NULL, ?, NULL, now())",
        [str(path), problem],
    )


def from_env(env: Mapping[str, str]) -> FocusFiles:
    patterns = split_patterns(env.get("FOCUS_PATHS", ""))
    if not patterns:
        raise SourceError("focus: FOCUS_PATHS is not set (comma-separated file globs)")
    return FocusFiles(patterns, TagKeys.from_env(env), Currency.from_env(env))
