"""Who owns a cost and in which currency: settings every cost source (FOCUS, AWS, Azure) shares.

Tag keys (FOCUS_TAG_COST_CENTRE / _SERVICE / _APPLICATION, comma lists) fill the allocation
columns of core.costs; keys compare without case or separators. Costs in another currency are
converted only with FOCUS_CURRENCY and FOCUS_EXCHANGE_RATES, which each cost source's load stores
in raw.cost_settings for staging, so a change of rate converts the whole history again. The cost
KPIs sum one currency and leave the others out (transforms/metrics/_cost_currency.sql).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from connectors.http import SourceError

DEFAULT_TAG_KEYS = {
    # business_unit last: many exports name the owning unit so, and it still says who pays.
    "cost_centre": ("cost_centre", "cost_center", "business_unit"),
    "service": ("service", "business_service", "service_name"),
    "application": ("application", "app", "application_name", "workload"),
}


def normalise_tag_key(key: str) -> str:
    """Tag keys compare without case, spaces or punctuation ("Cost-Center" = "cost_center"),
    letters and digits of any script kept ("コストセンター" is not "環境")."""
    return re.sub(r"[\W_]", "", key.lower())


@dataclass(frozen=True)
class TagKeys:
    """Which tag keys say who owns a cost; the first key present on a line item wins."""

    cost_centre: tuple[str, ...] = DEFAULT_TAG_KEYS["cost_centre"]
    service: tuple[str, ...] = DEFAULT_TAG_KEYS["service"]
    application: tuple[str, ...] = DEFAULT_TAG_KEYS["application"]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> TagKeys:
        """FOCUS_TAG_COST_CENTRE, FOCUS_TAG_SERVICE, FOCUS_TAG_APPLICATION: comma lists of keys."""
        chosen = {}
        for role, defaults in DEFAULT_TAG_KEYS.items():
            raw = env.get(f"FOCUS_TAG_{role.upper()}", "")
            keys = tuple(k.strip() for k in raw.split(",") if k.strip())
            chosen[role] = keys or defaults
        return cls(**chosen)

    def normalised(self, role: str) -> list[str]:
        return [normalise_tag_key(k) for k in getattr(self, role)]

    def role_of(self, key: str) -> str | None:
        """The allocation column a tag key fills (for API sources that group by one tag)."""
        wanted = normalise_tag_key(key)
        for role in DEFAULT_TAG_KEYS:
            if wanted in self.normalised(role):
                return role
        return None


@dataclass(frozen=True)
class Currency:
    """The reporting currency, and the rates that convert others to it (only explicit ones)."""

    reporting: str | None = None
    # 1 unit of the key currency = rate units of the reporting currency.
    rates: dict[str, float] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Currency:
        """FOCUS_CURRENCY (e.g. USD) and FOCUS_EXCHANGE_RATES (e.g. "EUR=1.08,GBP=1.27")."""
        reporting = (env.get("FOCUS_CURRENCY") or "").strip().upper() or None
        rates: dict[str, float] = {}
        for part in (env.get("FOCUS_EXCHANGE_RATES") or "").split(","):
            if not part.strip():
                continue
            code, _, value = part.partition("=")
            try:
                rate = float(value)
            except ValueError as exc:
                raise SourceError(
                    f"FOCUS_EXCHANGE_RATES entry {part.strip()!r} is not CODE=rate"
                ) from exc
            if not math.isfinite(rate) or rate <= 0:
                raise SourceError(
                    f"FOCUS_EXCHANGE_RATES entry {part.strip()!r}: the rate must be a "
                    "finite number above 0"
                )
            rates[code.strip().upper()] = rate
        if rates and not reporting:
            raise SourceError("FOCUS_EXCHANGE_RATES needs FOCUS_CURRENCY (the target)")
        # A shared table of rates may list the reporting currency at 1; any other rate for it
        # would scale every amount already in that currency.
        own = rates.pop(reporting, 1.0) if reporting else 1.0
        if own != 1.0:
            raise SourceError(
                f"FOCUS_EXCHANGE_RATES entry {reporting}={own:g}: {reporting} is FOCUS_CURRENCY, "
                "so its rate can only be 1"
            )
        return cls(reporting, rates)

    def store(self, con: duckdb.DuckDBPyConnection) -> None:
        """Replace raw.cost_settings (inside the caller's transaction): every cost source's
        staging converts with the settings of the last load."""
        currencies = sorted(self.rates)
        con.execute("DELETE FROM raw.cost_settings")
        con.execute(
            "INSERT INTO raw.cost_settings VALUES (?, ?, ?)",
            [self.reporting, currencies, [self.rates[c] for c in currencies]],
        )
