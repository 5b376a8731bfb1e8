"""The Dagster code location: wiring of connectors/, transforms/ and warehouse/."""
