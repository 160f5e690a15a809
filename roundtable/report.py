"""Many sessions -> the secretariat's consolidated report.  Thin calls into
``roundtable.documents.report`` (the document) and its renderers; used by the CLI and the server.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from roundtable.documents.report import (
    CATEGORIES,
    ReportData,
    build_report_data,
    need_category,
)
from roundtable.model import Country, Event, SessionSnapshot

__all__ = [
    "CATEGORIES",
    "Report",
    "build_report",
    "need_category",
    "report_html",
    "report_markdown",
]


@dataclass
class Report:
    """What a report is made from, and the ranking built from it (``data``)."""

    event: Event
    snapshots: list[SessionSnapshot]
    countries: Mapping[str, Country]
    as_of: dt.datetime
    lang: str = "en"
    last_sync: Mapping[str, str] = field(default_factory=dict)
    conflicts: Mapping | None = None
    regions: Sequence[str] | None = None  # the reader's regions; None = all
    carried: Sequence[Any] | None = None  # earlier conferences' actions (roundtable.actions)
    ceiling: str = "amber+strict"  # the reader's highest label; snapshots are cut to it

    @property
    def data(self) -> ReportData:
        return build_report_data(self.event, self.snapshots, self.countries, self.as_of)


def _as_datetime(value: dt.date | dt.datetime | None) -> dt.datetime:
    if value is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.combine(value, dt.time(23, 59), dt.UTC)


def build_report(
    event: Event,
    snapshots: Sequence[SessionSnapshot],
    countries: Mapping[str, Country],
    *,
    as_of: dt.date | dt.datetime | None = None,
    lang: str = "en",
    last_sync: Mapping[str, str] | None = None,
    conflicts: Mapping | None = None,
    regions: Sequence[str] | None = None,
    carried: Sequence[Any] | None = None,
    audience: str = "participants",
    ceiling: str | None = None,
) -> Report:
    """``audience`` or a reader's ``ceiling`` (a token's): the snapshots are cut to it here,
    so even the ranking (``data``) never counts what the reader may not see."""
    from roundtable.documents import AudienceError, reader_ceiling
    from roundtable.documents import cut as cut_snapshot

    top = reader_ceiling(audience, ceiling)
    if top == "red":
        raise AudienceError("the consolidated report is never for the room: TLP:RED stays out")
    return Report(
        event,
        [cut_snapshot(s, top) for s in snapshots],
        countries,
        _as_datetime(as_of),
        lang,
        dict(last_sync or {}),
        conflicts,
        regions,
        carried,
        top,
    )


def render(report: Report, fmt: str) -> str:
    from roundtable.documents import report_text

    return report_text(
        report.event,
        report.snapshots,
        report.countries,
        fmt=fmt,
        lang=report.lang,
        as_of=report.as_of,
        last_sync=report.last_sync,
        conflicts=report.conflicts,
        regions=report.regions,
        carried=report.carried,
        ceiling=report.ceiling,
    )


def report_markdown(report: Report) -> str:
    return render(report, "md")


def report_html(report: Report) -> str:
    return render(report, "html")
