"""Roll call from the region's roster: type to filter, one key per attendance status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.cells import cell_len
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import DataTable, Input, Static
from textual.widgets.data_table import ColumnKey

from roundtable.model import Attendance, Country
from roundtable.text import fold
from widgets.filter_keys import filter_list_key

STATUS_LABELS = {
    "present": "present",
    "apologies": "apologies",
    "absent": "absent",
    "unknown": "—",
}


class RosterTable(DataTable):
    """The roster rows; p / a / x / u set the status, Enter asks for delegate names; any other
    character is typing, and goes to the filter above (``RollCall.on_key``)."""

    BINDINGS = [
        Binding("p", "set('present')", "Present", id="roll.present", tooltip="Mark present"),
        Binding(
            "a", "set('apologies')", "Apologies", id="roll.apologies", tooltip="Sent apologies"
        ),
        Binding("x", "set('absent')", "Absent", id="roll.absent", tooltip="Mark absent"),
        Binding("u", "set('unknown')", "Unknown", id="roll.unknown", tooltip="Not recorded"),
        Binding(
            "enter", "delegates", "Delegates", id="roll.delegates", tooltip="Names of the delegates"
        ),
    ]

    def current_code(self) -> str | None:
        """The country code under the cursor (None when the filter matches nothing)."""
        if self.row_count == 0:
            return None
        return str(self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value)

    def action_set(self, status: str) -> None:
        code = self.current_code()
        if code:
            self.post_message(RollCall.StatusChanged(code, status))
            if self.cursor_row < self.row_count - 1:
                self.move_cursor(row=self.cursor_row + 1)

    def action_delegates(self) -> None:
        code = self.current_code()
        if code:
            self.post_message(RollCall.DelegatesRequested(code))


class RollCall(Vertical):
    """Filter input, counts line and roster table; posts StatusChanged / DelegatesRequested."""

    DEFAULT_CSS = """
    RollCall { height: 1fr; }
    RollCall > Input { margin: 0 1; }
    RollCall > .roll-counts { height: 1; padding: 0 1; color: $text-muted; }
    RollCall > RosterTable { height: 1fr; }
    """

    class StatusChanged(Message):
        def __init__(self, code: str, status: str) -> None:
            super().__init__()
            self.code = code
            self.status = status

    class DelegatesRequested(Message):
        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    def __init__(
        self, countries: Sequence[Country], attendance: Mapping[str, Attendance], **kwargs
    ) -> None:
        super().__init__(**kwargs)
        self.countries = list(countries)
        self.attendance: dict[str, Attendance] = dict(attendance)
        self.filter_text = ""

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="Type to filter by name or code; ↓ to the list",
            id="roll-filter",
            select_on_focus=False,  # typing from the list goes on where it was
        )
        yield Static("", classes="roll-counts")
        yield RosterTable(cursor_type="row", zebra_stripes=True, id="roll-table")

    def on_mount(self) -> None:
        self._build()

    def _widths(self) -> dict[str, int]:
        """Every column as wide as its widest possible value, from the first frame: a cell
        updated in place (p, a, x, u) never widens a column on screen (the table's caches
        keep the old width), so a status column sized on "—" showed "presen" and "apolog"
        until the screen was rebuilt."""
        delegates = [cell_len(", ".join(a.delegates)) for a in self.attendance.values()]
        return {
            "code": max([len("Code")] + [len(c.code) for c in self.countries]),
            "name": max([len("Delegation")] + [cell_len(c.name) for c in self.countries]),
            "status": max(cell_len(v) for v in STATUS_LABELS.values()),
            "delegates": min(60, max([len("Delegates")] + delegates)),
        }

    def _build(self) -> None:
        """(Re)make the columns at their widths, then the rows; the cursor stays on its row."""
        table = self.query_one(RosterTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        widths = self._widths()
        for key, label in (
            ("code", "Code"),
            ("name", "Delegation"),
            ("status", "Status"),
            ("delegates", "Delegates"),
        ):
            table.add_column(label, key=key, width=widths[key])
        self._fill()
        if cursor:
            table.move_cursor(row=cursor, animate=False)

    def _row(self, country: Country) -> tuple[str, str, str, str]:
        att = self.attendance.get(country.code)
        status = att.status if att else "unknown"
        delegates = ", ".join(att.delegates) if att else ""
        return (country.code, country.name, STATUS_LABELS.get(status, status), delegates)

    def visible_countries(self) -> list[Country]:
        """Countries matching the filter: accent- and case-insensitive name part, or exact code."""
        needle = fold(self.filter_text.strip())
        if not needle:
            return self.countries
        return [c for c in self.countries if needle in fold(c.name) or needle == c.code.casefold()]

    def _fill(self) -> None:
        table = self.query_one(RosterTable)
        table.clear()
        for country in self.visible_countries():
            table.add_row(*self._row(country), key=country.code)
        self._counts()

    def _counts(self) -> None:
        statuses = [
            self.attendance[c.code].status if c.code in self.attendance else "unknown"
            for c in self.countries
        ]
        text = (
            f"Present {statuses.count('present')} · Apologies {statuses.count('apologies')} · "
            f"Absent {statuses.count('absent')} · Not recorded {statuses.count('unknown')}"
        )
        self.query_one(".roll-counts", Static).update(text)

    def set_attendance(self, att: Attendance) -> None:
        """Record a stored attendance (after the screen saved it) and update its row in place."""
        self.attendance[att.country] = att
        table = self.query_one(RosterTable)
        country = next((c for c in self.countries if c.code == att.country), None)
        if country is not None and att.country in table.rows:
            row = self._row(country)
            if min(60, cell_len(row[3])) > table.columns[ColumnKey("delegates")].width:
                self._build()  # names wider than their column: the columns are made again
                self._counts()
                return
            for key, value in zip(("code", "name", "status", "delegates"), row, strict=True):
                table.update_cell(att.country, key, value)
        self._counts()

    @on(Input.Changed, "#roll-filter")
    def _filter(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self._fill()

    @on(Input.Submitted, "#roll-filter")
    def _to_table(self) -> None:
        self.query_one(RosterTable).focus()

    def on_key(self, event: events.Key) -> None:
        """The filter above the list (``filter_list_key``): "bra" typed on the list finds
        Brazil, it never fires a status key (issue 22, finding 2)."""
        table = self.query_one(RosterTable)
        filter_list_key(  # p a x u: the status keys stay the list's
            event, self.query_one("#roll-filter", Input), table, table._bindings.key_to_bindings
        )
