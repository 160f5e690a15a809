"""The captured entries: one line each, drawn with Textual's line API.

A capture on a session of thousands of entries must reach the screen in a few milliseconds.
Textual's DataTable re-renders every visible cell after any change (its caches are keyed by an
update counter), so this table keeps one rendered line (a ``Strip``) per entry and state
(cursor, stripe, focus, width): a capture draws one new line, a cursor move two.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from roundtable.model import Entry, effective_tlp

KIND_BADGES = {
    "issue": "ISSUE",
    "need": "NEED",
    "action": "ACTION",
    "decision": "DECISION",
    "note": "note",
}
TLP_BADGES = {
    "clear": "C",
    "green": "G",
    "amber": "A",
    "amber+strict": "S",
    "red": "R",
}
"""The entry's TLP label, first on its row: one cell, coloured by its component class, with
the label's initial for who does not see colours (issue 22: the words people said get the
width; the detail pane says the label in words)."""
BADGE_WIDTH = 2  # a space and the one-cell badge
COLUMNS = ("kind", "text", "delegations", "details")
HEADERS = ("Kind", "Text", "Delegations", "Details")
KIND_WIDTH = 8
DELEGATIONS_MIN, DELEGATIONS_MAX = 11, 20
"""The delegations column is as wide as its widest cell within these bounds (the header is 11)."""
TEXT_MIN = 16
"""Text never gets fewer cells than this while the details' essentials can still be shrunk."""
DETAILS_SHARE, DETAILS_CAP_MIN = 35, 30
"""The details column takes at most 35 % of the room (at least 30 cells): a long secretariat
unit as an action's owner must not crush every row's text (its row shows the unit cut, the
detail pane whole)."""
TEXT_COMFORT = 40
"""Tags (#...) get room in the details column only once the text has this many cells."""
TEXT_KEEP = 500
"""A row keeps this many characters of its text (the detail pane and the minutes show all)."""

Row = tuple[str, str, str, str]
Need = tuple[int, int, int]
"""What a row needs: cells of its delegations, of its details' essentials, of all its details."""


def _essentials(e: Entry) -> str:
    """The details that must never be cut: parked, priority, an action's owner, due, status."""
    parts = []
    if e.parked:
        parts.append("parked")
    if e.priority:
        parts.append(f"!{e.priority}")
    if e.entry_kind == "action":
        parts.append(f"owner {e.owner or '—'}")
        parts.append(f"due {e.due or '—'}")
        if e.status and e.status != "open":
            parts.append(e.status)
    return " ".join(parts)


def _details(e: Entry) -> str:
    return " ".join([p for p in (_essentials(e),) if p] + [f"#{t}" for t in e.crime_areas])


def _printable(text: str) -> str:
    """One line with no control characters (a pasted escape sequence must not reach the
    terminal) and no zero-width format characters that would shift the columns."""
    if text.isprintable():  # no Cc, Cf, Zl or Zp character (nor any other non-printable)
        return text
    return "".join(
        " " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch
        for ch in text
        if unicodedata.category(ch) != "Cf"
    )


def entry_row(e: Entry, conflict: str = "") -> Row:
    """The cells of one entry (text whole up to TEXT_KEEP characters; the column cuts it)."""
    text = " ".join(_printable(e.text[: TEXT_KEEP * 2]).split())[:TEXT_KEEP]
    if conflict:
        text = f"⚠ also edited by {conflict} · {text}"
    return (
        KIND_BADGES.get(e.entry_kind, e.entry_kind),
        text,
        " ".join(e.delegations),
        _printable(_details(e)),
    )


def row_need(e: Entry, row: Row) -> Need:
    return (cell_len(row[2]), cell_len(_printable(_essentials(e))), cell_len(row[3]))


def column_widths(
    width: int, need: Need = (0, 0, 0), text_floor: int = TEXT_MIN
) -> tuple[int, int, int, int]:
    """Cell widths for a table ``width`` cells wide whose rows need ``need`` (the widest
    delegations, details essentials and whole details of the rows shown).

    Kind is fixed; delegations as wide as its widest cell (11 to 20); details as wide as the
    widest essentials (priority, owner, due, status are never cut while the text keeps 16
    cells), then tags once the text has 40; the text takes the rest.  The four columns always
    fit ``width``: no horizontal scrolling at 80 columns.  Where the essentials are wider
    than their column (narrow terminals, a long unit as owner) a row drops the words "owner"
    and "due" and then cuts the owner, never the due date (``_fit_details``).

    ``text_floor`` is the least the text gets while the other columns can give way (the
    table passes half its width: issue 22, the words people said come first)."""
    floor = max(TEXT_MIN, text_floor)
    avail = max(0, width - (1 + KIND_WIDTH + 3))  # a leading space and three separators
    delegations = min(DELEGATIONS_MAX, max(DELEGATIONS_MIN, need[0]))
    cap = max(DETAILS_CAP_MIN, avail * DETAILS_SHARE // 100)
    details = max(len(HEADERS[3]), min(cap, need[1]))
    if avail - delegations - details < floor:  # narrow: delegations give way first
        delegations = max(DELEGATIONS_MIN, min(delegations, avail - details - floor))
    if avail - delegations - details < floor:  # too narrow: the essentials are cut
        details = max(len(HEADERS[3]), avail - delegations - floor)
    text = avail - delegations - details
    comfort = max(TEXT_COMFORT, floor)
    if text > comfort and need[2] > details:  # room for the tags
        extra = min(need[2] - details, text - comfort)
        details += extra
        text -= extra
    return (KIND_WIDTH, max(1, text), delegations, details)


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


_OWNER_DUE = re.compile(r"^(?P<head>.*?)owner (?P<owner>.*) due (?P<due>\S+)(?P<tail>.*)$")


def _fit_details(text: str, essentials: int, width: int) -> str:
    """Cut the tags, never the essentials; when even they are too wide, drop the words
    "owner" and "due", then cut the owner: the due date, priority and status stay whole."""
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    if essentials + 2 <= width:
        return set_cell_size(text, width - 1) + "…"
    head = set_cell_size(text, essentials)
    if essentials <= width:
        return set_cell_size(head, width)
    found = _OWNER_DUE.match(head)
    if found is None:
        return _fit(head, width)
    pre, owner, due, tail = found["head"], found["owner"], found["due"], found["tail"]
    compact = f"{pre}{owner} {due}{tail}"
    if cell_len(compact) <= width:
        return set_cell_size(compact, width)
    room = width - cell_len(f"{pre} {due}{tail}")
    if room >= 2:
        return set_cell_size(f"{pre}{_fit(owner, room)} {due}{tail}", width)
    without_owner = f"{pre}{due}{tail}"  # the detail pane names the owner
    if cell_len(without_owner) <= width:
        return set_cell_size(without_owner, width)
    return _fit(compact, width)


class EntryTable(ScrollView, can_focus=True):
    """Entries of the current view; up/down move, e or enter edits, d or delete deletes (the
    screen asks first), @ narrows the list to a delegation of the selected entry (again: its
    next delegation, then all).  Posts ``Highlighted`` when the entry under the cursor changes
    (a detail pane follows it) and ``FilterChanged`` when the delegation filter changes."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "entry-table--header",
        "entry-table--even-row",
        "entry-table--cursor",
        "entry-table--tlp-clear",
        "entry-table--tlp-green",
        "entry-table--tlp-amber",
        "entry-table--tlp-amber-strict",
        "entry-table--tlp-red",
    }

    DEFAULT_CSS = """
    EntryTable {
        height: 1fr;
        background: $surface;
        color: $foreground;
    }
    EntryTable:focus { background-tint: $foreground 5%; }
    EntryTable > .entry-table--header { text-style: bold; background: $panel; color: $foreground; }
    EntryTable > .entry-table--even-row { background: $surface-lighten-1 50%; }
    EntryTable:dark > .entry-table--even-row { background: $surface-darken-1 40%; }
    EntryTable > .entry-table--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    EntryTable:focus > .entry-table--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    EntryTable > .entry-table--tlp-clear { color: $foreground-muted; text-style: bold reverse; }
    EntryTable > .entry-table--tlp-green { color: $success; text-style: bold reverse; }
    EntryTable > .entry-table--tlp-amber { color: $warning; text-style: bold reverse; }
    EntryTable > .entry-table--tlp-amber-strict {
        color: $warning; text-style: bold reverse underline;
    }
    EntryTable > .entry-table--tlp-red { color: $error; text-style: bold reverse; }
    """

    default_tlp = ""
    """The session's default label, for entries written before labels (the screen sets it)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e,enter", "edit", "Edit", id="entries.edit", tooltip="Edit the selected entry"),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="entries.delete",
            tooltip="Delete the selected entry (asks first; ctrl+z undoes)",
        ),
        Binding(
            "at",
            "filter_delegation",
            "By delegation",
            id="entries.delegation",
            tooltip="Only the entries of a delegation of the selected entry (again: the next "
            "one, then all)",
        ),
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "cursor_to(0)", "First", show=False),
        Binding("end", "cursor_to(-1)", "Last", show=False),
    ]

    class EditRequested(Message):
        def __init__(self, entry_id: str) -> None:
            super().__init__()
            self.entry_id = entry_id

    class DeleteRequested(Message):
        def __init__(self, entry_id: str) -> None:
            super().__init__()
            self.entry_id = entry_id

    class Highlighted(Message):
        """The entry under the cursor changed (None: the table is empty)."""

        def __init__(self, entry: Entry | None, conflict: str = "") -> None:
            super().__init__()
            self.entry = entry
            self.conflict = conflict

    class FilterChanged(Message):
        """The delegation filter changed (None: every delegation)."""

        def __init__(self, delegation: str | None) -> None:
            super().__init__()
            self.delegation = delegation

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, Row] = {}
        self._needs: dict[str, Need] = {}
        self._need: Need = (0, 0, 0)
        self._order: list[str] = []
        self._all: list[Entry] = []
        self._by_id: dict[str, Entry] = {}
        self._conflicts: dict[str, str] = {}
        self._row_cache: dict[str, tuple[tuple, Row, Need]] = {}
        self._lines: LRUCache[tuple, Strip] = LRUCache(4096)
        self.kind_filter: str | None = None
        self.delegation_filter: str | None = None
        self.cursor_row = 0
        self._highlighted: tuple[str | None, Entry | None, str] | None = None

    # -- content ---------------------------------------------------------------------------

    @property
    def row_count(self) -> int:
        return len(self._order)

    def get_row_at(self, index: int) -> Row:
        """The cells of the row at ``index`` (0 = first row under the header)."""
        return self._rows[self._order[index]]

    def row(self, entry_id: str) -> Row:
        return self._rows[entry_id]

    def get_cell(self, entry_id: str, column: str) -> str:
        return self._rows[entry_id][COLUMNS.index(column)]

    def entry(self, entry_id: str) -> Entry | None:
        return self._by_id.get(entry_id)

    def entry_at(self, index: int) -> Entry:
        """The entry of the row at ``index`` (0 = first row under the header)."""
        return self._by_id[self._order[index]]

    def set_filter(self, kind: str | None) -> None:
        """Show only entries of ``kind`` (None shows all)."""
        self.kind_filter = kind
        self.set_entries(self._all, self._conflicts)

    def set_delegation_filter(self, code: str | None) -> None:
        """Show only entries raised by, or (actions) owned by, the delegation ``code`` (None
        shows all) among the entries the table was given; posts FilterChanged."""
        code = code or None
        if code == self.delegation_filter:
            return
        self.delegation_filter = code
        self.set_entries(self._all, self._conflicts)
        self.post_message(self.FilterChanged(code))

    def _shown(self, e: Entry) -> bool:
        if self.kind_filter not in (None, e.entry_kind):
            return False
        code = self.delegation_filter
        return code is None or code in e.delegations or e.owner == code

    def set_entries(
        self, entries: Sequence[Entry], conflicts: dict[str, str] | None = None
    ) -> None:
        """Show ``entries`` (in order); rows whose shown fields did not change are not
        reformatted, and the cursor stays on its entry when that entry is still shown."""
        keep_cursor = self.selected_entry_id()
        self._all = list(entries)
        self._by_id = {e.id: e for e in self._all}
        self._conflicts = dict(conflicts or {})
        if len(self._row_cache) > 2 * len(self._all) + 100:  # forget long-deleted entries
            ids = {e.id for e in self._all}
            self._row_cache = {k: v for k, v in self._row_cache.items() if k in ids}
        shown = [e for e in self._all if self._shown(e)]
        self._rows, self._needs = {}, {}
        for e in shown:
            self._rows[e.id], self._needs[e.id] = self._cached_row(e)
        self._order = [e.id for e in shown]
        needs = self._needs.values()
        self._need = (
            (max(n[0] for n in needs), max(n[1] for n in needs), max(n[2] for n in needs))
            if needs
            else (0, 0, 0)
        )
        if keep_cursor in self._rows:
            self.cursor_row = self._order.index(keep_cursor)
        self._resized()
        self.refresh()
        self._post_highlighted()

    def append_entry(self, entry: Entry) -> None:
        """Add ``entry`` at the end (a capture): one new line; the others are not redrawn."""
        self._all.append(entry)
        self._by_id[entry.id] = entry
        if not self._shown(entry) or entry.id in self._rows:
            return
        row, need = self._cached_row(entry)
        self._rows[entry.id], self._needs[entry.id] = row, need
        self._order.append(entry.id)
        widest = tuple(max(a, b) for a, b in zip(self._need, need, strict=True))
        self._resized()
        if widest != self._need:  # the columns change: every line is drawn again
            self._need = widest  # type: ignore[assignment]
            self.refresh()
        else:
            self.refresh_line(len(self._order))  # +1 for the header line
        if len(self._order) == 1:
            self._post_highlighted()

    def _cached_row(self, e: Entry) -> tuple[Row, Need]:
        key = (
            e.entry_kind,
            e.text,
            tuple(e.delegations),
            tuple(e.crime_areas),
            e.priority,
            e.owner,
            e.due,
            e.status,
            e.parked,
            self._conflicts.get(e.id, ""),
        )
        cached = self._row_cache.get(e.id)
        if cached is not None and cached[0] == key:
            return cached[1], cached[2]
        row = entry_row(e, key[-1])
        need = row_need(e, row)
        self._row_cache[e.id] = (key, row, need)
        return row, need

    # -- cursor ----------------------------------------------------------------------------

    def selected_entry_id(self) -> str | None:
        """The entry under the cursor (None on an empty table), for edit/delete and updates."""
        if not self._order:
            return None
        return self._order[min(self.cursor_row, len(self._order) - 1)]

    def select_entry(self, entry_id: str) -> None:
        """Put the cursor on ``entry_id`` (e.g. the entry just captured); unknown ids: no-op."""
        if entry_id in self._rows:
            self.move_cursor(self._order.index(entry_id))

    def move_cursor(self, row: int) -> None:
        if not self._order:
            self.cursor_row = 0
            return
        row = max(0, min(row, len(self._order) - 1))
        old, self.cursor_row = self.cursor_row, row
        if old != row:
            self.refresh_line(old + 1)
            self.refresh_line(row + 1)
        self._scroll_to_cursor()
        self._post_highlighted()

    def _post_highlighted(self) -> None:
        """Tell the screen (the detail pane) when the entry under the cursor, or what is known
        of it, changed."""
        entry_id = self.selected_entry_id()
        entry = self._by_id.get(entry_id) if entry_id else None
        state = (entry_id, entry, self._conflicts.get(entry_id or "", ""))
        if self._highlighted is not None and (
            state[0] == self._highlighted[0]
            and state[1] is self._highlighted[1]
            and state[2] == self._highlighted[2]
        ):
            return
        self._highlighted = state
        self.post_message(self.Highlighted(entry, state[2]))

    def _scroll_to_cursor(self) -> None:
        visible = max(1, self.scrollable_content_region.height - 1)  # minus the header line
        top = round(self.scroll_y)
        if self.cursor_row < top:
            self.scroll_to(y=self.cursor_row, animate=False, immediate=True)
        elif self.cursor_row >= top + visible:
            self.scroll_to(y=self.cursor_row - visible + 1, animate=False, immediate=True)

    def action_cursor(self, step: int) -> None:
        self.move_cursor(self.cursor_row + step)

    def action_page(self, direction: int) -> None:
        page = max(1, self.scrollable_content_region.height - 2)
        self.move_cursor(self.cursor_row + direction * page)

    def action_cursor_to(self, row: int) -> None:
        self.move_cursor(row if row >= 0 else len(self._order) - 1)

    def action_edit(self) -> None:
        entry_id = self.selected_entry_id()
        if entry_id:
            self.post_message(self.EditRequested(entry_id))

    def action_delete(self) -> None:
        entry_id = self.selected_entry_id()
        if entry_id:
            self.post_message(self.DeleteRequested(entry_id))

    def action_filter_delegation(self) -> None:
        """Filter on the selected entry's first delegation (or owner); pressed again, on its
        next one; after the last, show every delegation again."""
        entry_id = self.selected_entry_id()
        entry = self._by_id.get(entry_id) if entry_id else None
        codes = list(entry.delegations) if entry else []
        if entry and entry.owner and entry.owner not in codes and entry.owner != "region":
            codes.append(entry.owner)
        current = self.delegation_filter
        if current in codes:
            following = codes[codes.index(current) + 1 :]
            self.set_delegation_filter(following[0] if following else None)
        elif codes:
            self.set_delegation_filter(codes[0])
        else:
            self.set_delegation_filter(None)
        if entry_id:
            self.select_entry(entry_id)

    def on_click(self, event: events.Click) -> None:
        row = round(self.scroll_y) + event.y - 1
        if event.y >= 1 and 0 <= row < len(self._order):
            self.move_cursor(row)
            if event.chain == 2:
                self.action_edit()

    # -- drawing ---------------------------------------------------------------------------

    def _resized(self) -> None:
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._order) + 1)
        if self._order and self.cursor_row >= len(self._order):
            self.cursor_row = len(self._order) - 1

    def on_resize(self) -> None:
        self._resized()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._lines.clear()

    def _on_focus(self, event: events.Focus) -> None:
        self.refresh_line(self.cursor_row + 1)

    def _on_blur(self, event: events.Blur) -> None:
        self.refresh_line(self.cursor_row + 1)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        # the text gets at least half the table (issue 22, finding 14)
        half = (self.size.width + 1) // 2
        widths = column_widths(max(width - BADGE_WIDTH, 0), self._need, half)
        if y == 0:
            key = ("header", "", width, widths, self.has_focus)
            return self._line(key, HEADERS, 0, "entry-table--header")
        index = round(self.scroll_y) + y - 1
        if index >= len(self._order):
            return Strip.blank(width, self.rich_style)
        entry_id = self._order[index]
        row = self._rows[entry_id]
        cursor = index == self.cursor_row
        if cursor:
            component = "entry-table--cursor"
        else:
            component = "entry-table--even-row" if index % 2 else ""
        label = effective_tlp(self._by_id[entry_id].tlp, self.default_tlp)
        line_key = (row, label, component, width, widths, self.has_focus)
        return self._line(line_key, row, self._needs[entry_id][1], component)

    def _line(self, key: tuple, cells: Sequence[str], essentials: int, component: str) -> Strip:
        strip = self._lines.get(key)
        if strip is None:
            width, widths = key[-3], key[-2]
            style: Style = self.rich_style
            if component:
                style = style + self.get_component_rich_style(component)
            label = key[1]
            badge_style = style
            if label in TLP_BADGES:
                part = "tlp-" + label.replace("+", "-")
                badge_style = style + self.get_component_rich_style(f"entry-table--{part}")
            badge = set_cell_size(TLP_BADGES.get(label, label), min(BADGE_WIDTH - 1, width))
            width -= 1 + cell_len(badge)
            kind, text, delegations, details = cells
            text = " " + " ".join(
                (
                    _fit(kind, widths[0]),
                    _fit(text, widths[1]),
                    _fit(delegations, widths[2]),
                    _fit_details(details, essentials, widths[3]),
                )
            )
            strip = Strip(
                [
                    Segment(" ", style),
                    Segment(badge, badge_style),
                    Segment(set_cell_size(text, width), style),
                ],
                width + 1 + cell_len(badge),
            )
            self._lines[key] = strip
        return strip
