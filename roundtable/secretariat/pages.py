"""The rows of pull pages, kept in each server process (issue 25's load target).

Every room's laptop of a region pulls the same rows: what the region's other rooms pushed since
its last round.  At 100 laptops each op was read from the database, and loaded into Python, by
the ~20 laptops of its region, one page at a time: the largest share of a pull's cost.  Here a
process keeps, for each (event, branch) a page reads (a region, ``''`` for the event's own
records, ``*`` for a token of every region), a *span*: every row of that branch whose seq lies
between ``lo`` and ``hi`` (both exclusive), in seq order, exactly as the page query returns them.
A page is then read from the spans its token needs, and only the rows pushed since a span's end
are read from the database, once per process rather than once per laptop.

Why a span can be trusted (the pull rule, ``repository``'s docstring): ``hi`` is always a
*horizon*: a seq below which every row is final (``Repository.horizon``: on PostgreSQL the
oldest running transaction's first seq; on SQLite, whose writer is one at a time, past the
highest stored seq).  Rows below a horizon are never added, changed or removed afterwards (ops
are immutable and never deleted), so a span read once stays exactly the database's rows for
its range.  A span grows by reading the rows from ``hi`` up to a newer horizon (in chunks), and
forgets its oldest rows past ``MAX_ROWS``; a laptop whose cursor lies below a span's start
reads through a span of its own that is not kept.  What a page makes of its rows (labels and
ceilings, withdrawals, older protocols) is still decided at every request from the database:
only the rows themselves are kept, never a decision.
"""

from __future__ import annotations

import bisect
import heapq
import threading
from collections.abc import Callable, Sequence
from itertools import islice
from sys import intern

ALL = "*"
"""The branch of a token of every region: the event's rows, whatever their region."""

CHUNK = 2000
"""Rows read from the database at a time when a span grows."""

MAX_ROWS = 8000
"""Rows a kept span holds at most (its oldest are forgotten past it): at the issue's load a
region's rooms push ~750 ops a second, so a span holds the last ~10 s of a region, more than a
round of every laptop; a laptop further behind reads through a span of its own."""

MAX_SPANS = 64
"""Spans a process keeps at most: six an event (five regions and the event's own records, or
all of them for a token of every region), so the events read lately."""

Fetch = Callable[[str, int, int, int, str], list[tuple]]
"""(branch, from seq inclusive, horizon exclusive, at most n, less this device's) -> the
branch's rows, in seq order."""


def _shared(row: tuple) -> tuple:
    """A kept row with its repeated texts shared (event, session, kind, field, device, base:
    one string each, not one a row): ~1.2 KB a row becomes ~0.8 KB."""
    return (
        row[0], row[1], intern(row[2]), intern(row[3]), row[4], intern(row[5]),
        intern(row[6]), row[7], row[8], intern(row[9]), intern(row[10]), *row[11:],
    )  # fmt: skip


class Span:
    """Every row of one (event, branch) with ``lo < seq < hi`` (less ``without``'s), in seq
    order."""

    __slots__ = ("lo", "hi", "seqs", "rows", "lock", "chunk", "without")

    def __init__(self, lo: int, chunk: int = 0, without: str = "") -> None:
        self.lo = lo
        self.chunk = chunk or CHUNK
        """Rows read at a time: ``CHUNK`` for a kept span, a page's for a request's own."""
        self.without = without
        """A device whose rows the span leaves out: '' (none) for a kept span; a request's own
        span leaves out the rows its page would drop anyway."""
        self.hi = lo + 1  # no seq lies strictly between lo and lo + 1: empty, and exact
        self.seqs: list[int] = []
        self.rows: list[tuple] = []
        self.lock = threading.Lock()

    def grow(self, fetch: Fetch, branch: str, horizon: int) -> None:
        """Read the next chunk of rows below ``horizon`` (at least one step towards it)."""
        if horizon <= self.hi:  # another request grew it past an older horizon than ours
            return
        rows = fetch(branch, self.hi, horizon, self.chunk, self.without)
        self.seqs += [r[0] for r in rows]
        if self.without:  # a request's own span: gone with the request
            self.rows += rows
        else:
            self.rows += [_shared(r) for r in rows]
        # a full chunk ends at its last row; a short one reached the horizon
        self.hi = rows[-1][0] + 1 if len(rows) == self.chunk else horizon

    def reach(self, since: int, fetch: Fetch, branch: str, horizon: int) -> None:
        """Make the span cover ``since``, which lies at or past its end: grown by up to two
        chunks (a cursor a little ahead of a span not read for a round, moved past the
        laptop's own ops), else started afresh at ``since`` (a span nobody read for long)."""
        for _ in range(2):
            if since < self.hi or self.hi >= horizon:
                break
            self.grow(fetch, branch, horizon)
        if since >= self.hi:
            self.lo, self.hi = since, since + 1
            self.seqs, self.rows = [], []

    def after(self, since: int, exclude: str, n: int, fetch: Fetch, branch: str,
              horizon: int) -> list[tuple]:  # fmt: skip
        """The first ``n`` rows after ``since`` (which lies within the span) and below
        ``horizon``, less ``exclude``'s, growing the span towards ``horizon`` as far as they
        need."""
        start = bisect.bisect_right(self.seqs, since)
        out: list[tuple] = []
        while True:
            # rows past the horizon were read by a request of a newer one: every branch of a
            # page stops at the page's own, or a row of one branch could be sent before a row
            # of another branch that the page does not hold yet
            end = bisect.bisect_left(self.seqs, horizon, start)
            while start < end:
                # a slice at a time, a little more than the rows still wanted (some may be
                # the excluded device's)
                stop = min(end, start + 2 * (n - len(out)) + 16)
                out += [row for row in self.rows[start:stop] if row[9] != exclude]
                start = stop
                if len(out) >= n:
                    return out[:n]
            if end < len(self.rows) or self.hi >= horizon:
                return out
            self.grow(fetch, branch, horizon)

    def forget_oldest(self, keep: int) -> None:
        """Forget all but the newest ``keep`` rows (``lo`` moves to the last one forgotten)."""
        drop = len(self.rows) - keep
        if drop > 0:
            self.lo = self.seqs[drop - 1]
            del self.seqs[:drop]
            del self.rows[:drop]


class PageCache:
    """The spans of one server process (``Database.page_cache``), shared by its requests'
    threads: one per (event, branch) read lately, at most ``MAX_SPANS`` (the one read longest
    ago is forgotten first)."""

    def __init__(self, max_rows: int = MAX_ROWS) -> None:
        self.max_rows = max_rows
        self._spans: dict[tuple[str, str], Span] = {}
        self._lock = threading.Lock()

    def span(self, event_id: str, branch: str, since: int) -> Span:
        """The kept span of (event, branch), made (starting at ``since``) if there is none."""
        key = (event_id, branch)
        with self._lock:
            found = self._spans.pop(key, None)
            if found is None:
                found = Span(since)
                while len(self._spans) >= MAX_SPANS:
                    del self._spans[next(iter(self._spans))]
            self._spans[key] = found  # last in the dict's order: read most recently
            return found


def page_rows(
    cache: PageCache | None,
    event_id: str,
    branches: Sequence[str],
    since: int,
    limit: int,
    exclude: str,
    horizon: int,
    fetch: Fetch,
) -> list[tuple]:
    """The first ``limit`` rows after ``since`` of these branches, merged in seq order, less
    ``exclude``'s, every one below ``horizon``: the page query's answer."""
    parts = [
        _branch(cache, event_id, branch, since, limit, exclude, horizon, fetch)
        for branch in branches
    ]
    parts = [part for part in parts if part]
    if len(parts) <= 1:  # the usual page: no row of the event's own records among the new
        return parts[0][:limit] if parts else []
    return list(islice(heapq.merge(*parts, key=lambda r: r[0]), limit))


def _branch(
    cache: PageCache | None, event_id: str, branch: str, since: int, limit: int, exclude: str,
    horizon: int, fetch: Fetch,
) -> list[tuple]:  # fmt: skip
    """One branch's first ``limit`` rows after ``since``, below ``horizon``, less
    ``exclude``'s: from the kept span where it starts at or before ``since`` (checked under
    its lock: another request may have moved its start since), else through a span of the
    request's own, not kept (a laptop far behind does not move the kept one back)."""
    if since + 1 >= horizon:
        return []  # no row lies between: nothing to read, and no span to move
    if cache is not None:
        span = cache.span(event_id, branch, since)
        with span.lock:
            if since >= span.lo:
                if since >= span.hi:
                    span.reach(since, fetch, branch, horizon)
                rows = span.after(since, exclude, limit, fetch, branch, horizon)
                if len(span.rows) > cache.max_rows:
                    span.forget_oldest(cache.max_rows // 2)
                return rows
    own = Span(since, limit, exclude)
    return own.after(since, exclude, limit, fetch, branch, horizon)
