"""Assessments, rankings and supervision reports computed from the engine's own cases.

The rules (indicators, formulas, weights, whom a report goes to) are data in
``definitions/reports.yaml``; this package counts (``measures``), computes (``compute``) and
renders (``render``: CSV and an HTML page with server-side SVG charts). It reads through the
engine's public methods and writes nothing.
"""

from workflow.reports.compute import Report, build_report

__all__ = ["Report", "build_report"]
