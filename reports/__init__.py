"""Reports for people who do not write SQL: the executive one-pager and the service-owner pages."""

from reports.publish import DEFAULT_REPORTS, ReportFiles, reports_folder, write_reports

__all__ = ["DEFAULT_REPORTS", "ReportFiles", "reports_folder", "write_reports"]
