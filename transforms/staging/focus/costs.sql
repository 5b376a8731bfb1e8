-- FOCUS line items (raw.focus_costs) -> core.costs: the file's columns are already FOCUS, so
-- staging only allocates, converts and tidies. Allocation: the first configured tag key present
-- on a line item names its cost centre, service and application (keys compare without case or
-- separators). Currency: a currency with a configured rate is converted to the reporting one.
-- Tags repeat across line items (one set per resource), so each distinct set is parsed once
-- (focus_tag_map, in _macros.sql); tags that are not a JSON object load as none. A billing period
-- an export repeated in several run folders counts from the latest run only: the line items a
-- later folder repeats are left out (focus_superseded_folders, in _macros.sql), and so are the
-- line items of a file the paths no longer list that its folder holds again (focus_dropped_files).
WITH settings AS (
    SELECT * FROM raw.focus_settings LIMIT 1
),
-- The reporting currency and rates every cost source converts with; none stored yet: no rates.
currency_settings AS (
    SELECT * FROM raw.cost_settings LIMIT 1
),
-- cost_id is focus:<file key>:<line>; the key is hashed once per file, not per line item.
files AS (
    SELECT source_file, left(sha256(source_file), 12) AS file_key,
        parse_dirpath(source_file) AS folder
    FROM (SELECT DISTINCT source_file FROM raw.focus_costs)
),
dropped_files AS (
    SELECT source_file FROM focus_dropped_files()
),
superseded AS (
    SELECT
        folder, ProviderName, BillingAccountId, SubAccountId, BillingPeriodStart,
        superseded_through
    FROM focus_superseded_folders()
),
tag_sets AS (
    SELECT DISTINCT Tags
    FROM raw.focus_costs
    WHERE Tags IS NOT NULL
),
parsed_tags AS (
    SELECT Tags, focus_tag_map(Tags) AS tag_map
    FROM tag_sets
),
normalised_tags AS (
    SELECT Tags, tag_map,
        list_transform(map_entries(tag_map), lambda e: {
            'key': regexp_replace(lower(e.key), '[^\p{L}\p{N}]', '', 'g'), 'value': e.value
        }) AS tag_entries
    FROM parsed_tags
),
-- Keys alike once normalised ("Service" and "service": AWS tag keys are case-sensitive) are
-- one key; a blank value among them names no owner, so the first with words does.
allocations AS (
    SELECT
        Tags,
        -- Stored as written, but an object repeating a key as its map: the KPIs read it as one.
        CASE
            WHEN tag_map IS NULL THEN NULL
            WHEN json_keys(CAST(focus_tags_text(Tags) AS JSON)) = map_keys(tag_map)
                THEN CAST(focus_tags_text(Tags) AS JSON)
            ELSE to_json(tag_map)
        END AS tags_json,
        list_filter(
            list_transform(settings.cost_centre_keys,
                lambda k: display_name(list_filter(tag_entries,
                    lambda e: e.key = k AND display_name(e.value) IS NOT NULL)[1].value)),
            lambda v: v IS NOT NULL)[1] AS cost_centre,
        list_filter(
            list_transform(settings.service_keys,
                lambda k: display_name(list_filter(tag_entries,
                    lambda e: e.key = k AND display_name(e.value) IS NOT NULL)[1].value)),
            lambda v: v IS NOT NULL)[1] AS service,
        list_filter(
            list_transform(settings.application_keys,
                lambda k: display_name(list_filter(tag_entries,
                    lambda e: e.key = k AND display_name(e.value) IS NOT NULL)[1].value)),
            lambda v: v IS NOT NULL)[1] AS application
    FROM normalised_tags, settings
),
-- FOCUS 1.0 ServiceCategory values; exports spell them in any case.
service_categories(ServiceCategory) AS (
    VALUES ('AI and Machine Learning'), ('Analytics'), ('Business Applications'), ('Compute'),
        ('Databases'), ('Developer Tools'), ('Multicloud'), ('Identity'), ('Integration'),
        ('Internet of Things'), ('Management and Governance'), ('Media'), ('Migration'),
        ('Mobile'), ('Networking'), ('Security'), ('Storage'), ('Web'), ('Other')
),
priced AS (
    SELECT
        line_items.*,
        files.file_key,
        allocations.tags_json,
        allocations.cost_centre,
        allocations.service,
        allocations.application,
        service_categories.ServiceCategory AS known_category,
        upper(trim(line_items.BillingCurrency)) AS currency_code,
        currency_settings.reporting_currency,
        cost_rate(
            line_items.BillingCurrency,
            currency_settings.rate_currencies,
            currency_settings.rate_values
        ) AS rate
    FROM raw.focus_costs AS line_items
    LEFT JOIN currency_settings ON true
    JOIN files USING (source_file)
    ANTI JOIN dropped_files USING (source_file)
    ANTI JOIN superseded
        ON superseded.folder = files.folder
        AND superseded.ProviderName IS NOT DISTINCT FROM line_items.ProviderName
        AND superseded.BillingAccountId IS NOT DISTINCT FROM line_items.BillingAccountId
        AND superseded.SubAccountId IS NOT DISTINCT FROM line_items.SubAccountId
        AND superseded.BillingPeriodStart IS NOT DISTINCT FROM line_items.BillingPeriodStart
        AND (line_items.ChargePeriodStart IS NULL
            OR line_items.ChargePeriodStart <= superseded.superseded_through)
    LEFT JOIN allocations USING (Tags)
    LEFT JOIN service_categories
        ON lower(service_categories.ServiceCategory) = lower(trim(line_items.ServiceCategory))
)
SELECT
    'focus:' || file_key || ':' || line_number AS cost_id,
    'focus' AS source,
    source_file,
    BillingAccountId,
    BillingAccountName,
    CASE WHEN rate IS NULL THEN currency_code ELSE reporting_currency END AS BillingCurrency,
    BillingPeriodStart,
    BillingPeriodEnd,
    CASE WHEN NOT coalesce(focus_implausible_charge(ChargePeriodStart, BillingPeriodEnd), false)
        THEN ChargePeriodStart END AS ChargePeriodStart,
    ChargePeriodEnd,
    upper(left(trim(ChargeCategory), 1)) || lower(substr(trim(ChargeCategory), 2))
        AS ChargeCategory,
    upper(left(trim(ChargeClass), 1)) || lower(substr(trim(ChargeClass), 2)) AS ChargeClass,
    ChargeDescription,
    cost_converted(BilledCost, rate) AS BilledCost,
    cost_converted(EffectiveCost, rate) AS EffectiveCost,
    cost_converted(ListCost, rate) AS ListCost,
    cost_converted(ContractedCost, rate) AS ContractedCost,
    ProviderName,
    PublisherName,
    InvoiceIssuerName,
    coalesce(known_category, ServiceCategory) AS ServiceCategory,
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
    loaded_at
FROM priced
