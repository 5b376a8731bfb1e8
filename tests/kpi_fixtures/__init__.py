"""Hand-built KPI fixtures shared by tests/test_kpi_*.py."""
