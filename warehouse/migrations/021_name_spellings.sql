-- The spelling each service or group name is counted and shown under, letter case aside, as the
-- last KPI run read it: the KPIs and the service pages (from the published file) alike.
CREATE TABLE kpi.name_spellings (
    kind      VARCHAR NOT NULL,  -- service | group
    name      VARCHAR NOT NULL,  -- as a core table holds it
    spelling  VARCHAR NOT NULL   -- the one shown: another spelling of the same name
);
