"""Close the session: a completeness check whose findings are fixed or knowingly accepted."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from roundtable.model import AgendaItem
from roundtable.screens.common import UNDO, ConfirmModal, SessionScreen, StatusLine, follow_session
from widgets import KeyBar


class CloseScreen(SessionScreen):
    """Enter fixes the selected finding, space accepts it (or takes the acceptance back).

    Every fix opens on top of this screen (the entry's edit dialog, the roll call, a capture
    line for an empty agenda item), so Esc after a fix comes back here, the check refreshed.
    """

    BINDINGS = [
        Binding("enter", "fix", "Fix", id="close.fix", tooltip="Open what the finding is about"),
        Binding("space", "accept", "Accept", id="close.accept", tooltip="Knowingly accept it"),
        Binding(
            "g",
            "go_to_item",
            "Go to item",
            id="close.goto",
            tooltip="Leave the check for the agenda, on the finding's item",
        ),
        Binding(
            "ctrl+s",
            "close_session",
            "Close session",
            id="close.close",
            priority=True,
            tooltip="Close the session (asks first if findings remain)",
        ),
        Binding("escape", "back", "Back", id="close.back", tooltip="Back to the agenda"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield Static("Completeness check", classes="screen-title")
        yield Static("", id="close-summary")
        yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#findings", DataTable)
        self.refresh_findings()
        follow_session(self, self._session_changed)
        table.focus()

    def on_resize(self) -> None:
        if self.is_mounted:
            self.refresh_findings()

    def findings(self):
        from roundtable.checks import completeness
        from roundtable.screens.minutes import session_conflicts
        from sessions import countries_in

        snap = self.store.snapshot(self.app.country_names())
        codes = [c.code for c in countries_in(self.store.session.region)]
        return completeness(snap, codes, session_conflicts(self.store))

    def refresh_findings(self) -> None:
        from rich.text import Text

        table = self.query_one("#findings", DataTable)
        row = table.cursor_row
        # a finding wraps within the screen's width, never cut (issue 22, finding 13)
        width = max(20, (self.size.width or 80) - len("accepted") - 2 * 2 - 2)
        table.clear(columns=True)
        table.add_column("", key="state", width=len("accepted"))
        table.add_column("Finding", key="finding", width=width)
        found = self.findings()
        for f in found:
            state = "accepted" if f.accepted else "open"
            table.add_row(state, Text(f.message), key=f.code, height=None)
        if found:
            table.move_cursor(row=min(row, len(found) - 1))
        remaining = sum(not f.accepted for f in found)
        status = self.store.session.status
        if status == "closed":
            text = "This session is closed. Changes are still recorded and synced."
        elif not found:
            text = "Nothing to chase: the session can be closed (ctrl+s)."
        else:
            text = (
                f"{remaining} open, {len(found) - remaining} accepted. Enter fixes, space "
                "accepts, ctrl+s closes."
            )
        self.query_one("#close-summary", Static).update(text)

    def _session_changed(self, _keys: object) -> None:
        self.refresh_findings()

    def _selected(self):
        table = self.query_one("#findings", DataTable)
        if table.row_count == 0:
            return None
        code = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((f for f in self.findings() if f.code == code), None)

    def action_accept(self) -> None:
        finding = self._selected()
        if finding is None:
            return
        accepted = list(self.store.session.accepted_gaps)
        if finding.code in accepted:
            accepted.remove(finding.code)
        else:
            accepted.append(finding.code)
        self.store.update("session", self.store.session_id, accepted_gaps=accepted)
        self.refresh_findings()

    @on(DataTable.RowSelected, "#findings")
    def action_fix(self) -> None:
        finding = self._selected()
        if finding is None:
            return
        if finding.record_kind == "entry":
            from roundtable.screens.edit import EditEntryModal

            self.app.push_screen(
                EditEntryModal(finding.record_id), lambda _: self.refresh_findings()
            )
        elif finding.record_kind == "session":
            from roundtable.screens.setup import SetupScreen

            self.app.push_screen(SetupScreen())  # its Esc and ctrl+s come back here
        elif finding.record_kind == "attendance":  # a delegation named but not present
            from roundtable import commands

            self.store.perform(commands.set_attendance, finding.record_id, "present")
            self.notify(f"{finding.record_id} marked present.")
            self.refresh_findings()
        elif finding.record_kind == "agenda_item":
            self._capture_for_item(finding.record_id)

    def _capture_for_item(self, item_id: str) -> None:
        """Nothing was captured under an item: type what was said there, in the capture
        grammar, without leaving the check."""
        from roundtable.screens.common import PromptModal
        from roundtable.store import StoreError

        item = self.store.get("agenda_item", item_id)
        if not isinstance(item, AgendaItem):
            return

        def validate(line: str) -> str | None:
            if not line.strip():
                return "Type what was said, or Esc to leave the item as it is."
            try:
                captured = self.parse_capture(line)
            except ValueError as exc:
                return str(exc)
            return "Type what was said (undo is on the agenda)." if captured is UNDO else None

        def done(line: str | None) -> None:
            if line is None:
                return
            try:
                captured = self.parse_capture(line)
                entry = self.store.add_entry(**captured.entry_fields(), agenda_item=item_id)
            except (ValueError, StoreError) as exc:
                self.notify(str(exc), title="Not saved", severity="error", timeout=10)
                return
            self.notify(f"Saved {entry.entry_kind} under {item.position + 1}. {item.title}")
            self.refresh_findings()
            self.app.session_changed()

        self.app.push_screen(
            PromptModal(
                f"Capture for {item.position + 1}. {item.title}",
                placeholder="/decide …  /note …  (quick-capture grammar; Esc: back to the check)",
                validate=validate,
            ),
            done,
        )

    def action_go_to_item(self) -> None:
        """Leave the check for the agenda, on the item of the selected finding."""
        finding = self._selected()
        if finding is None or finding.record_kind != "agenda_item":
            self.notify("Select a finding about an agenda item.", severity="warning")
            return
        self.store.update("session", self.store.session_id, current_item=finding.record_id)
        self.app.pop_screen()
        self.app.session_changed()

    def action_close_session(self) -> None:
        from roundtable.checks import may_close

        remaining = [f for f in self.findings() if not f.accepted]
        if not may_close(self.findings()):
            self.notify(
                "Resolve the conflicting edits first (Enter on the finding): the "
                "minutes cannot show two values.",
                severity="error",
                timeout=10,
            )
            return

        def close(yes: bool | None) -> None:
            if not yes:
                return
            # one change: every item clock stops, the turn in progress ends (issue 16)
            from roundtable import commands

            self.store.perform(commands.close, [f.code for f in remaining])
            self.store.checkpoint()
            self.notify("Session closed. Minutes can be exported at any time (m).")
            self.refresh_findings()
            self.app.session_changed()

        if remaining:
            self.app.push_screen(
                ConfirmModal(
                    f"{len(remaining)} findings are still open. Close the session and accept "
                    "them as they are?",
                    "Accept and close",
                ),
                close,
            )
        else:
            self.app.push_screen(ConfirmModal("Close the session?", "Close"), close)

    def action_back(self) -> None:
        self.app.pop_screen()
        self.app.session_changed()

    def palette_commands(self):
        yield ("session: close", "Close after the completeness check", self.action_close_session)
        yield ("check: accept finding", "Knowingly accept the selected finding", self.action_accept)
        yield ("check: fix finding", "Open what the selected finding is about", self.action_fix)
        yield (
            "check: go to item",
            "The agenda, on the selected finding's item",
            self.action_go_to_item,
        )
