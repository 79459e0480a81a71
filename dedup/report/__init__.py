"""Which paragraphs of two variants match: the aligner, the boilerplate it sets aside, the
report of a run's clusters, and its renderings as text, Markdown and HTML.

The names a script needs are here: ``from dedup.report import render_html, report_from_run``;
``align_records`` and ``align_run_records`` align two records of a dump or of a run, by id.
"""

from dedup.report.build import ReportError, report_from_result, report_from_run
from dedup.report.html import render_html, render_report_html
from dedup.report.markdown import render_markdown, render_report_markdown
from dedup.report.records import align_records, align_run_records
from dedup.report.text import render_text
from dedup.report.views import AlignedPair, RunReport

__all__ = [
    "AlignedPair",
    "ReportError",
    "align_records",
    "align_run_records",
    "RunReport",
    "render_html",
    "render_markdown",
    "render_report_html",
    "render_report_markdown",
    "render_text",
    "report_from_result",
    "report_from_run",
]
