"""Set-up: facilitator, rapporteur and room, then the roll call from the region's roster."""

from __future__ import annotations

import datetime as dt
from typing import Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Select, Static

from roundtable.model import Attendance
from roundtable.screens.common import PromptModal, SessionScreen, StatusLine
from widgets import KeyBar, RollCall

_FIELDS = ("facilitator", "rapporteur", "room")


class SetupScreen(SessionScreen):
    """Who runs the room and who is in it.  Every change is saved as it is made."""

    AUTO_FOCUS = "#roll-filter"
    """The roll call's filter, where its hint says typing goes (issue 22, finding 1): the
    facilitator's name is never the target of the first keystroke."""

    BINDINGS = [
        Binding(
            "ctrl+s",
            "start",
            "Confirm & start",
            id="setup.start",
            priority=True,
            tooltip="Confirm the attendance and go to the agenda",
        ),
        Binding(
            "ctrl+s",
            "confirm",
            "Confirm",
            id="setup.confirm",
            priority=True,
            tooltip="Confirm the attendance and go back to the meeting",
        ),
        Binding("escape", "back", "Back", id="setup.back", tooltip="Back without confirming"),
        Binding(
            "ctrl+z",
            "undo_last",
            "Undo",
            id="setup.undo",
            priority=True,
            tooltip="Undo the last change (a status set by mistake)",
        ),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """ctrl+s says "Confirm & start" before the session starts, "Confirm" once it runs
        (issue 22: mid-session the roll call offered to start the meeting)."""
        if action == "undo_last":
            return True
        if action in ("start", "confirm"):
            started = self.store.session.status != "planned"
            return started if action == "confirm" else not started
        return True

    def action_confirm(self) -> None:
        self.action_start()

    def compose(self) -> ComposeResult:
        store = self.store
        session = store.session
        yield StatusLine()
        yield Static("Set-up and roll call", classes="screen-title")
        with Horizontal(id="setup-fields", classes="row"):
            for name in _FIELDS:
                with Vertical(classes="field"):
                    yield Label(name.capitalize())
                    yield Input(getattr(session, name), id=f"setup-{name}")
            with Vertical(classes="field"):  # issue 14: the label of what is captured
                from roundtable.model import TLP_LABELS, tlp_name

                yield Label("Default label")
                yield Select(
                    [(tlp_name(label), label) for label in TLP_LABELS],
                    value=store.default_tlp,
                    allow_blank=False,
                    id="setup-tlp",
                )
        from sessions import countries_in

        attendance = {a.country: a for a in store.records("attendance")}
        yield RollCall(countries_in(session.region), attendance, id="rollcall")
        yield KeyBar()

    def _save_field(self, name: str, value: str) -> None:
        store = self.store
        value = value.strip()
        if getattr(store.session, name) != value:
            store.update("session", store.session_id, **{name: value})

    @on(Input.Submitted)
    @on(Input.Blurred)
    def _field_done(self, event) -> None:
        input_id = event.input.id or ""
        if input_id.startswith("setup-"):
            self._save_field(input_id.removeprefix("setup-"), event.input.value)

    @on(Select.Changed, "#setup-tlp")
    def _default_label(self, event: Select.Changed) -> None:
        store = self.store
        if event.value != store.default_tlp:
            store.set_default_tlp(str(event.value))

    @on(RollCall.StatusChanged)
    def _status(self, event: RollCall.StatusChanged) -> None:
        from roundtable import commands

        changes = self.store.perform(commands.set_attendance, event.code, event.status)
        self.query_one(RollCall).set_attendance(_stored(self.store, changes))

    @on(RollCall.DelegatesRequested)
    def _delegates(self, event: RollCall.DelegatesRequested) -> None:
        from roundtable import commands

        store = self.store
        current = next((a for a in store.records("attendance") if a.country == event.code), None)
        names = ", ".join(current.delegates) if current else ""
        country = self.app.roster[event.code].name

        def done(value: str | None) -> None:
            if value is None:
                return
            delegates = [n.strip() for n in value.split(",") if n.strip()]
            status = current.status if current and current.status != "unknown" else "present"
            changes = store.perform(commands.set_attendance, event.code, status, delegates)
            self.query_one(RollCall).set_attendance(_stored(store, changes))

        self.app.push_screen(PromptModal(f"Delegates of {country} (comma-separated)", names), done)

    def action_start(self) -> None:
        for name in _FIELDS:
            self._save_field(name, self.query_one(f"#setup-{name}", Input).value)
        store = self.store
        changes: dict = {"attendance_confirmed": True}
        if store.session.status == "planned":
            changes["status"] = "running"
            changes["opened_at"] = dt.datetime.fromtimestamp(self.app.clock(), dt.UTC).isoformat()
        if not store.session.current_item:
            agenda = store.records("agenda_item")
            if agenda:
                changes["current_item"] = agenda[0].id
        store.update("session", store.session_id, **changes)
        if not self._back_to_caller():
            from roundtable.screens.run import RunScreen

            self.app.switch_screen(RunScreen())

    def action_back(self) -> None:
        if not self._back_to_caller():
            self.app.show_home()

    def _back_to_caller(self) -> bool:
        """Opened from the agenda (a) or from the completeness check (a fix), Esc and ctrl+s go
        back there, refreshed; opened from the session list, there is nothing to go back to."""
        from roundtable.screens.close import CloseScreen
        from roundtable.screens.run import RunScreen

        below = self.app.screen_stack[-2] if len(self.app.screen_stack) > 1 else None
        if not isinstance(below, RunScreen | CloseScreen):
            return False
        self.app.pop_screen()
        self.app.session_changed()
        return True

    def action_rest_absent(self) -> None:
        """Mark every member delegation not yet recorded absent, and say the quorum."""
        from roundtable import commands
        from roundtable.procedure import quorum
        from roundtable.store import StoreError
        from sessions import countries_in

        store = self.store
        members = [c.code for c in countries_in(store.session.region)]
        try:
            marked = store.perform(commands.mark_rest_absent, members).value
        except StoreError as exc:
            self.notify(str(exc), severity="error")
            return
        roll = self.query_one(RollCall)
        for att in store.records("attendance"):
            if att.country in marked:
                roll.set_attendance(att)
        q = quorum(store.records("attendance"), members, store.session.quorum)
        self.notify(f"{len(marked)} marked absent (ctrl+z undoes) · {q.line}", title="Roll call")

    def palette_commands(self):
        yield ("session: confirm attendance", "Confirm the roll call and start", self.action_start)
        yield (
            "roll call: mark the rest absent",
            "Every delegation not yet recorded is absent; says the quorum",
            self.action_rest_absent,
        )


def _stored(store: Any, changes: Any) -> Attendance:
    """The attendance record a ``commands.set_attendance`` just wrote (or found unchanged)."""
    return cast(Attendance, store.get("attendance", changes.created))
