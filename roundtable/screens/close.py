"""Close the session: a completeness check whose findings are fixed or knowingly accepted."""

from __future__ import annotations

import datetime as dt

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Static

from roundtable.screens.common import ConfirmModal, StatusLine
from widgets import KeyBar


class CloseScreen(Screen):
    """Enter fixes the selected finding, space accepts it (or takes the acceptance back)."""

    BINDINGS = [
        Binding("enter", "fix", "Fix", id="close.fix", tooltip="Open what the finding is about"),
        Binding("space", "accept", "Accept", id="close.accept", tooltip="Knowingly accept it"),
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

    @property
    def store(self):
        return self.app.session_store

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield Static("Completeness check", classes="screen-title")
        yield Static("", id="close-summary")
        yield DataTable(id="findings", cursor_type="row", zebra_stripes=True)
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#findings", DataTable)
        table.add_columns("", "Finding")
        self.refresh_findings()
        table.focus()

    def findings(self):
        from roundtable.checks import completeness
        from roundtable.screens.minutes import session_conflicts
        from sessions import countries_in

        snap = self.store.snapshot(self.app.country_names())
        codes = [c.code for c in countries_in(self.store.session.region)]
        return completeness(snap, codes, session_conflicts(self.store))

    def refresh_findings(self) -> None:
        table = self.query_one("#findings", DataTable)
        row = table.cursor_row
        table.clear()
        found = self.findings()
        for f in found:
            table.add_row("accepted" if f.accepted else "open", f.message, key=f.code)
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

    def on_roundtable_app_session_changed(self) -> None:
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

            self.app.push_screen(SetupScreen())
        elif finding.record_kind == "agenda_item":
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
            now = dt.datetime.fromtimestamp(self.app.clock(), dt.UTC).isoformat()
            accepted = list(self.store.session.accepted_gaps) + [f.code for f in remaining]
            self.store.update(
                "session",
                self.store.session_id,
                status="closed",
                closed_at=now,
                accepted_gaps=accepted,
            )
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
