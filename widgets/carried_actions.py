"""The actions carried from the region's earlier conferences, on the "Review of action items"
item (issue 12): one row each, with its status now and this session's note.  The facilitator
marks the row under the cursor; the widget posts ``Marked`` and the screen stores the review."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Static

if TYPE_CHECKING:  # the run screen imports this module at start-up: keep it light
    from roundtable.actions import CarriedAction

STATUS_LABELS = {
    "open": "open",
    "in_progress": "in progress",
    "carried": "carried",
    "done": "done",
    "dropped": "dropped",
}


TEXT_WIDTH = 28
"""Cells of an action's text in the list (the minutes and the report carry it whole)."""


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


class CarriedActions(Vertical):
    """Earlier conferences' actions: a caption (where they came from) and a table."""

    DEFAULT_CSS = """
    CarriedActions { height: auto; max-height: 45%; border-top: solid $primary; }
    CarriedActions > #carried-caption { color: $text-muted; height: 1; }
    CarriedActions > DataTable { height: auto; max-height: 12; overflow-x: hidden; }
    CarriedActions > #own-actions { height: auto; max-height: 10; color: $text; }
    """

    BINDINGS = [
        Binding("d", "mark('done')", "Done", id="carried.done", tooltip="Mark the action done"),
        Binding(
            "p",
            "mark('in_progress')",
            "In progress",
            id="carried.in_progress",
            tooltip="Mark the action in progress",
        ),
        Binding("x", "mark('dropped')", "Dropped", id="carried.dropped", tooltip="Mark it dropped"),
        Binding(
            "r",
            "mark('carried')",
            "Carry",
            id="carried.carried",
            tooltip="Carry it to the next conference unchanged",
        ),
    ]

    class Marked(Message):
        """The facilitator marked ``action`` with ``status`` (the screen asks for the note)."""

        def __init__(self, action: CarriedAction, status: str) -> None:
            super().__init__()
            self.action = action
            self.status = status

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.actions: list[CarriedAction] = []
        self.session_id = ""
        self._built = False

    def compose(self) -> ComposeResult:
        # Nothing until first shown (``_table``): the run screen holds this widget on every
        # item and shows it on the review item only; its table cost ~13 ms of the run
        # screen's start-up (issue 22).
        yield from ()

    def _table(self) -> DataTable:
        """The table (with the caption above it and the read-back list below), mounted the
        first time something is shown."""
        if not self._built:
            self._built = True
            table: DataTable = DataTable(id="carried-table", cursor_type="row", zebra_stripes=True)
            # the columns that matter first; "From" is cut on a narrow screen (80 columns)
            for label, width in (("Status", 13), ("Action", TEXT_WIDTH), ("Note", 16),
                                 ("Owner", 5), ("Due", 10), ("From", 24)):  # fmt: skip
                table.add_column(label, width=width, key=label.lower())
            self.mount(
                Static("", id="carried-caption"), table, Static("", id="own-actions", markup=False)
            )
        return self.query_one("#carried-table", DataTable)

    def show(self, actions: Sequence[CarriedAction], session_id: str, source: str) -> None:
        """Show the open actions and those reviewed in this session (``session_id``)."""
        self.session_id = session_id
        self.actions = [a for a in actions if a.is_open or a.review_in(session_id)]
        table = self._table()
        cursor = table.cursor_row
        table.clear()
        for a in self.actions:
            review = a.review_in(session_id)
            status = ("✓ " if review else "") + STATUS_LABELS.get(a.status, a.status)
            origin = f"{a.event_name or a.event_id[:8]} {a.date}".strip()
            table.add_row(
                status,
                _clip(a.text, TEXT_WIDTH),
                _clip(review.note, 16) if review else "",
                a.owner or "—",
                a.due or "—",
                origin,
                key=a.id,
            )
        if self.actions:
            table.move_cursor(row=min(max(cursor, 0), len(self.actions) - 1))
        reviewed = sum(1 for a in self.actions if a.review_in(session_id))
        self.query_one("#carried-caption", Static).update(
            f"Earlier conferences' actions: {len(self.actions)} ({reviewed} reviewed here) · "
            f"{source} · ctrl+r to mark"
            if self.actions
            else f"No open actions from earlier conferences · {source}"
        )

    def show_own(self, lines: Sequence[tuple[str, str, str]]) -> None:
        """This session's own actions ``(text, owner, due)``, listed for the read-back beside
        the earlier conferences' ones (issue 26)."""
        self._table()
        own = self.query_one("#own-actions", Static)
        if not lines:
            own.update("This session's actions for the read-back: none captured yet")
            return
        rows = [f"This session's actions for the read-back ({len(lines)}):"]
        for n, (text, owner, due) in enumerate(lines, 1):
            who = f" — owner {owner}" if owner else " — no owner"
            when = f", due {due}" if due else ", no due date"
            rows.append(f"{n}. {_clip(text, TEXT_WIDTH * 2)}{who}{when}")
        own.update("\n".join(rows))

    def focus_table(self) -> None:
        self._table().focus()

    @property
    def selected(self) -> CarriedAction | None:
        if not self.actions:
            return None
        table = self._table()
        if table.cursor_row < 0:
            return None
        return self.actions[min(table.cursor_row, len(self.actions) - 1)]

    def action_mark(self, status: str) -> None:
        action = self.selected
        if action is not None:
            self.post_message(self.Marked(action, status))

    @on(DataTable.RowSelected)
    def _enter(self, event: DataTable.RowSelected) -> None:
        event.stop()
        action = self.selected
        if action is not None:  # Enter: the same status again, to change the note
            review = action.review_in(self.session_id)
            self.post_message(self.Marked(action, review.status if review else "carried"))
