"""The captured entries: one row each, updated in place so 5,000 rows stay quick."""

from __future__ import annotations

from collections.abc import Sequence

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable
from textual.widgets.data_table import CellDoesNotExist

from roundtable.model import Entry

KIND_BADGES = {
    "issue": "ISSUE",
    "need": "NEED",
    "action": "ACTION",
    "decision": "DECISION",
    "note": "note",
}
COLUMNS = ("kind", "text", "delegations", "details")
TEXT_WIDTH = 60
MAX_REMOVALS = 8


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


def entry_row(e: Entry, conflict: str = "") -> tuple[str, str, str, str]:
    """The cells of one entry, compared cell by cell so an update touches only what changed."""
    text = " ".join(e.text.split())
    if len(text) > TEXT_WIDTH:
        text = text[: TEXT_WIDTH - 1] + "…"
    if conflict:
        text = f"⚠ also edited by {conflict} · {text}"
    return (KIND_BADGES.get(e.entry_kind, e.entry_kind), text, " ".join(e.delegations), _details(e))


class EntryTable(DataTable):
    """Entries of the current view; e edits, d or delete deletes (the screen asks first)."""

    DEFAULT_CSS = """
    EntryTable { height: 1fr; }
    """

    BINDINGS = [
        Binding("e", "edit", "Edit", id="entries.edit", tooltip="Edit the selected entry"),
        Binding(
            "d,delete",
            "delete",
            "Delete",
            id="entries.delete",
            tooltip="Delete the selected entry (asks first; ctrl+z undoes)",
        ),
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
        super().__init__(cursor_type="row", zebra_stripes=True, **kwargs)
        self._rows: dict[str, tuple[str, str, str, str]] = {}
        self._order: list[str] = []
        self._all: list[Entry] = []
        self._conflicts: dict[str, str] = {}
        self._row_cache: dict[str, tuple[tuple, tuple[str, str, str, str]]] = {}
        self.kind_filter: str | None = None

    def on_mount(self) -> None:
        # fixed widths: the table never measures thousands of cells to size its columns
        for name, width in zip(COLUMNS, (8, TEXT_WIDTH, 14, 34), strict=True):
            self.add_column(name.capitalize(), key=name, width=width)

    def set_filter(self, kind: str | None) -> None:
        """Show only entries of ``kind`` (None shows all); rebuilds the rows once."""
        self.kind_filter = kind
        self.set_entries(self._all, self._conflicts)

    def set_entries(
        self, entries: Sequence[Entry], conflicts: dict[str, str] | None = None
    ) -> None:
        """Show ``entries`` (in order).  Appends and in-place edits touch only their rows."""
        self._all = list(entries)
        self._conflicts = dict(conflicts or {})
        shown = [e for e in self._all if self.kind_filter in (None, e.entry_kind)]
        if len(self._row_cache) > 2 * len(self._all) + 100:  # forget long-deleted entries
            ids = {e.id for e in self._all}
            self._row_cache = {k: v for k, v in self._row_cache.items() if k in ids}
        rows = {e.id: self._cached_row(e) for e in shown}
        order = [e.id for e in shown]
        keep_cursor = self.selected_entry_id()
        kept = self._kept_rows(order)
        if kept is None:
            self.clear()
            self._order, self._rows = [], {}
        else:
            for entry_id in self._order:
                if entry_id not in rows:
                    self.remove_row(entry_id)
                    del self._rows[entry_id]
            self._order = kept
        for entry_id in self._order:
            old, new = self._rows[entry_id], rows[entry_id]
            if old != new:
                for column, (a, b) in zip(COLUMNS, zip(old, new, strict=True), strict=True):
                    if a != b:
                        self.update_cell(entry_id, column, b)
        for entry_id in order[len(self._order) :]:
            self.add_row(*rows[entry_id], key=entry_id)
        self._order, self._rows = order, rows
        if keep_cursor and keep_cursor in rows:
            self.select_entry(keep_cursor)

    def _cached_row(self, e: Entry) -> tuple[str, str, str, str]:
        """The row of ``e``, reformatted only when a shown field changed (a capture on a
        5,000-entry session formats one row, not 5,000)."""
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

    def _kept_rows(self, order: list[str]) -> list[str] | None:
        """The old rows that stay, when ``order`` is the old rows minus some (deleted, or fallen
        off a capped list) plus new ones at the end (a capture); None when the rows must be
        rebuilt (a filter change, an undo that re-inserts in the middle)."""
        wanted = set(order)
        kept = [entry_id for entry_id in self._order if entry_id in wanted]
        if len(self._order) - len(kept) > MAX_REMOVALS:
            return None  # DataTable.remove_row is O(rows): many removals cost more than a rebuild
        return kept if order[: len(kept)] == kept else None

    def selected_entry_id(self) -> str | None:
        """The entry under the cursor (None on an empty table), for edit/delete and updates."""
        if self.row_count == 0:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except CellDoesNotExist:  # cursor outside the rows after a clear
            return None
        return str(key.value)

    def select_entry(self, entry_id: str) -> None:
        """Put the cursor on ``entry_id`` (e.g. the entry just captured); unknown ids: no-op."""
        if entry_id in self._rows:
            self.move_cursor(row=self.get_row_index(entry_id))

    def action_edit(self) -> None:
        entry_id = self.selected_entry_id()
        if entry_id:
            self.post_message(self.EditRequested(entry_id))

    def action_delete(self) -> None:
        entry_id = self.selected_entry_id()
        if entry_id:
            self.post_message(self.DeleteRequested(entry_id))
