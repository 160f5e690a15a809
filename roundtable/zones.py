"""The venue's clock (issue 24): an event's IANA time zone, checked, and times read in it.

Stored times stay UTC (journal, wire, database); a person reads them in the venue's zone, which
the event carries (``Event.tz``, "" for an event created before zones: UTC).  Everything that
shows a time to a person converts here, at the edge: the documents, the app's clock and capture
times, the console.

Zones come from the ``tzdata`` package when the system has no database (Windows), so a zone
resolves on every laptop.  Pure: no I/O but reading the zone database.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from roundtable.errors import RoundtableError

UTC_NAME = "UTC"


class ZoneError(RoundtableError, ValueError):
    """A time zone that is not an IANA name; the message is one line with a suggestion."""


@lru_cache(maxsize=1)
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine resolves (its database, else the tzdata package)."""
    import zoneinfo

    return frozenset(zoneinfo.available_timezones()) | {UTC_NAME}


def suggest(name: str) -> str | None:
    """The known zone nearest to a mistyped one: same name in another case, a city's name
    alone ("paris"), else the closest spelling."""
    import difflib

    names = zone_names()
    folded = name.strip().casefold().replace(" ", "_")
    by_fold = {n.casefold(): n for n in names}
    by_city: dict[str, str] = {}
    for n in sorted(names, key=lambda n: ("/" not in n, n)):  # Area/City before old aliases
        by_city.setdefault(n.rsplit("/", 1)[-1].casefold(), n)
    if "/" not in folded and folded in by_city:
        return by_city[folded]
    if folded in by_fold:
        return by_fold[folded]
    close = difflib.get_close_matches(folded, list(by_fold), n=1, cutoff=0.75)
    if close:
        return by_fold[close[0]]
    close = difflib.get_close_matches(folded, list(by_city), n=1, cutoff=0.75)
    return by_city[close[0]] if close else None


def check_zone(name: str, where: str = "") -> str:
    """``name`` when it is a known IANA zone; ZoneError otherwise, in one line naming ``where``
    (the argument, key or field): ``--tz: Europe/Pari: unknown time zone; did you mean
    Europe/Paris?``."""
    prefix = f"{where}: " if where else ""
    if not isinstance(name, str) or not name.strip():
        raise ZoneError(f"{prefix}give an IANA time zone such as Europe/Paris (or UTC)")
    shown = name if len(name) <= 60 else name[:57] + "..."
    if name in zone_names():
        return name
    hint = suggest(name) if len(name) <= 60 else None
    tail = f"did you mean {hint}?" if hint else "give an IANA name such as Europe/Paris"
    raise ZoneError(f"{prefix}{shown!s}: unknown time zone; {tail}")


@lru_cache(maxsize=64)
def zone(name: str) -> dt.tzinfo:
    """The tzinfo of a stored zone name; UTC for "" (an event older than zones) or for a name
    this machine's database does not know (a newer one wrote it).  Loads the one zone, never
    the list of all (``zone_names`` takes ~70 ms: only a name a person types is checked
    against it)."""
    if not name or name == UTC_NAME or name.startswith(("/", ".")) or "\\" in name:
        return dt.UTC
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, zoneinfo.ZoneInfoNotFoundError):
        return dt.UTC


def laptop_zone() -> str:
    """The IANA name of this computer's zone, the default of a new event on a laptop: ``TZ``,
    else what ``/etc/localtime`` links to, else ``/etc/timezone``; UTC when none is known (a
    Windows laptop names its zone otherwise: the facilitator picks it in the dialog)."""
    found = os.environ.get("TZ", "").lstrip(":")
    if found in zone_names():
        return found
    try:
        target = str(Path("/etc/localtime").resolve())
    except OSError:
        target = ""
    if "zoneinfo/" in target:
        found = target.split("zoneinfo/", 1)[1]
        if found in zone_names():
            return found
    try:
        found = Path("/etc/timezone").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        found = ""
    return found if found in zone_names() else UTC_NAME


def abbreviation(value: dt.datetime) -> str:
    """The abbreviation of an aware local time: CET, CEST, EST; a zone without letters
    ("+08") as UTC+8."""
    name = value.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = value.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    if minutes == 0:
        return UTC_NAME
    sign = "+" if minutes > 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def year_abbreviations(name: str, year: int) -> tuple[str, ...]:
    """The abbreviations a zone uses in a year, in the order they occur from January
    ("CET", "CEST"): what a document's header names."""
    tz = zone(name)
    if tz is dt.UTC:
        return (UTC_NAME,)
    out: list[str] = []
    for month in range(1, 13):
        for day in (1, 15):
            word = abbreviation(dt.datetime(year, month, day, 12, tzinfo=dt.UTC).astimezone(tz))
            if word not in out:
                out.append(word)
    return tuple(out)


def place_of(name: str, venue: str = "") -> str:
    """The place whose clock a zone is: the event's venue, else the zone's city."""
    if venue.strip():
        return venue.strip()
    if not name or name == UTC_NAME:
        return ""
    return name.rsplit("/", 1)[-1].replace("_", " ")


def parse_instant(iso: str) -> dt.datetime | None:
    """A stored ISO time (naive = UTC) as an aware datetime; None when empty or unreadable."""
    if not iso:
        return None
    try:
        value = dt.datetime.fromisoformat(iso)
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


class VenueClock:
    """Times as the venue reads them.  ``instants``: every time a document (or a screen) shows,
    and the event's days; when they do not all have the same UTC offset (the document spans a
    daylight-saving change), every time is printed with its abbreviation (``marked``)."""

    def __init__(
        self,
        tz: str = "",
        instants: Iterable[dt.datetime | None] = (),
        *,
        days: Iterable[str] = (),
        venue: str = "",
    ) -> None:
        self.zone = zone(tz)
        self.name = tz if self.zone is not dt.UTC else UTC_NAME
        self.venue = venue
        seen = [i for i in instants if i is not None]
        for day in days:
            try:
                date = dt.date.fromisoformat(day[:10])
            except (TypeError, ValueError):
                continue
            seen.append(dt.datetime.combine(date, dt.time(12), self.zone))
        offsets = {i.astimezone(self.zone).utcoffset() for i in seen}
        self.marked = len(offsets) > 1
        self.year = min(seen).astimezone(self.zone).year if seen else dt.date.today().year

    @property
    def is_utc(self) -> bool:
        return self.name == UTC_NAME

    def local(self, value: dt.datetime) -> dt.datetime:
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(self.zone)

    def _mark(self, local: dt.datetime, shown: str) -> str:
        return f"{shown} {abbreviation(local)}" if self.marked else shown

    def hm(self, value: dt.datetime) -> str:
        """HH:MM at the venue (with its abbreviation when the document spans a change)."""
        local = self.local(value)
        return self._mark(local, local.strftime("%H:%M"))

    def hms(self, value: dt.datetime) -> str:
        local = self.local(value)
        return self._mark(local, local.strftime("%H:%M:%S"))

    def hm_ms(self, ms: int) -> str:
        return self.hm(dt.datetime.fromtimestamp(ms / 1000, dt.UTC))

    def day(self, value: dt.datetime) -> str:
        """The venue's date of an instant (ISO)."""
        return self.local(value).date().isoformat()

    def abbreviations(self) -> str:
        return "/".join(year_abbreviations(self.name, self.year))

    def place(self) -> str:
        return place_of(self.name, self.venue)
