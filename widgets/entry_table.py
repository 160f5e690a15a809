"""The captured entries: one line each, drawn with Textual's line API.

A capture on a session of thousands of entries must reach the screen in a few milliseconds.
Textual's DataTable re-renders every visible cell after any change (its caches are keyed by an
update counter), so this table keeps one rendered line (a ``Strip``) per entry and state
(cursor, stripe, focus, width): a capture draws one new line, a cursor move two.
"""

from __future__ import annotations

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

from roundtable.model import Entry

KIND_BADGES = {
    "issue": "ISSUE",
    "need": "NEED",
    "action": "ACTION",
    "decision": "DECISION",
    "note": "note",
}
COLUMNS = ("kind", "text", "delegations", "details")
HEADERS = ("Kind", "Text", "Delegations", "Details")
KIND_WIDTH = 8
DELEGATIONS_WIDTH = 14
TEXT_WIDTH = 60
"""Text is cut to this many characters in a row (the edit dialog and the minutes show it all)."""

Row = tuple[str, str, str, str]


def _details(e: Entry) -> str:
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
    parts.extend(f"#{t}" for t in e.crime_areas)
    return " ".join(parts)


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
    """The cells of one entry."""
    text = " ".join(_printable(e.text).split())
    if len(text) > TEXT_WIDTH:
        text = text[: TEXT_WIDTH - 1] + "…"
    if conflict:
        text = f"⚠ also edited by {conflict} · {text}"
    return (
        KIND_BADGES.get(e.entry_kind, e.entry_kind),
        text,
        " ".join(e.delegations),
        _printable(_details(e)),
    )


def column_widths(width: int) -> tuple[int, int, int, int]:
    """Cell widths for a table ``width`` cells wide: kind and delegations fixed, details up to
    34, text takes the rest (at 80 columns: 8, 33, 14, 18)."""
    spare = max(0, width - (1 + KIND_WIDTH + 1 + DELEGATIONS_WIDTH + 1 + 1))
    details = min(34, max(12, spare * 35 // 100))
    text = max(10, spare - details)
    return (KIND_WIDTH, text, DELEGATIONS_WIDTH, details)


def _fit(text: str, width: int) -> str:
    if cell_len(text) <= width:
        return set_cell_size(text, width)
    return set_cell_size(text, width - 1) + "…"


class EntryTable(ScrollView, can_focus=True):
    """Entries of the current view; up/down move, e or enter edits, d or delete deletes (the
    screen asks first)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "entry-table--header",
        "entry-table--even-row",
        "entry-table--cursor",
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
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("e,enter", "edit", "Edit", id="entries.edit", tooltip="Edit the selected entry"),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="entries.delete",
            tooltip="Delete the selected entry (asks first; ctrl+z undoes)",
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

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._rows: dict[str, Row] = {}
        self._order: list[str] = []
        self._all: list[Entry] = []
        self._conflicts: dict[str, str] = {}
        self._row_cache: dict[str, tuple[tuple, Row]] = {}
        self._lines: LRUCache[tuple, Strip] = LRUCache(4096)
        self.kind_filter: str | None = None
        self.cursor_row = 0

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

    def set_filter(self, kind: str | None) -> None:
        """Show only entries of ``kind`` (None shows all)."""
        self.kind_filter = kind
        self.set_entries(self._all, self._conflicts)

    def set_entries(
        self, entries: Sequence[Entry], conflicts: dict[str, str] | None = None
    ) -> None:
        """Show ``entries`` (in order); rows whose shown fields did not change are not
        reformatted, and the cursor stays on its entry when that entry is still shown."""
        keep_cursor = self.selected_entry_id()
        self._all = list(entries)
        self._conflicts = dict(conflicts or {})
        if len(self._row_cache) > 2 * len(self._all) + 100:  # forget long-deleted entries
            ids = {e.id for e in self._all}
            self._row_cache = {k: v for k, v in self._row_cache.items() if k in ids}
        shown = [e for e in self._all if self.kind_filter in (None, e.entry_kind)]
        self._rows = {e.id: self._cached_row(e) for e in shown}
        self._order = [e.id for e in shown]
        if keep_cursor in self._rows:
            self.cursor_row = self._order.index(keep_cursor)
        self._resized()
        self.refresh()

    def append_entry(self, entry: Entry) -> None:
        """Add ``entry`` at the end (a capture): one new line; the others are not redrawn."""
        self._all.append(entry)
        if self.kind_filter not in (None, entry.entry_kind) or entry.id in self._rows:
            return
        self._rows[entry.id] = self._cached_row(entry)
        self._order.append(entry.id)
        self._resized()
        self.refresh_line(len(self._order))  # +1 for the header line

    def _cached_row(self, e: Entry) -> Row:
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
            return cached[1]
        row = entry_row(e, key[-1])
        self._row_cache[e.id] = (key, row)
        return row

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
        if y == 0:
            return self._line(("header", width, self.has_focus), HEADERS, "entry-table--header")
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
        return self._line((row, component, width, self.has_focus), row, component)

    def _line(self, key: tuple, cells: Sequence[str], component: str) -> Strip:
        strip = self._lines.get(key)
        if strip is None:
            width = key[-2]
            style: Style = self.rich_style
            if component:
                style = style + self.get_component_rich_style(component)
            text = " " + " ".join(
                _fit(cell, w) for cell, w in zip(cells, column_widths(width), strict=True)
            )
            strip = Strip([Segment(set_cell_size(text, width), style)], width)
            self._lines[key] = strip
        return strip
