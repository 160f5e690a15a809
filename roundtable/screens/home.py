"""Pick a session, or create one from a region's plan (or a plan file); unlock an encrypted one."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, DataTable, Input, Label, Select, Static

from roundtable.model import REGIONS
from roundtable.screens.common import AppModal, AppScreen, StatusLine
from widgets import KeyBar


class HomeScreen(AppScreen):
    """Every session on this laptop, newest event first."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="home.open", tooltip="Open the selected session"),
        Binding("n", "new", "New session", id="home.new", tooltip="Create a session from a plan"),
        Binding("D", "demo", "Demo", id="home.demo", tooltip="Create the demo Africa session"),
        Binding("r", "reload", "Refresh", id="home.reload", tooltip="Re-read the session list"),
    ]

    def compose(self) -> ComposeResult:
        yield StatusLine()
        yield Static("Sessions on this laptop", classes="screen-title")
        yield DataTable(id="sessions", cursor_type="row", zebra_stripes=True)
        yield Static("", id="home-empty", classes="hint")
        yield KeyBar()

    def on_mount(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.add_columns("Event", "Region", "Session", "Date", "Status", "Entries", "Pending")
        self.action_reload()

    def action_reload(self) -> None:
        table = self.query_one("#sessions", DataTable)
        table.clear()
        rows = self.app.local.sessions()
        rows.sort(key=lambda s: (s.event_name, s.date, s.title), reverse=False)
        for s in rows:
            table.add_row(
                s.event_name,
                REGIONS.get(s.region, s.region),
                s.title,
                s.date,
                s.status,
                str(s.entries),
                str(s.pending),
                key=s.id,
            )
        hint = self.query_one("#home-empty", Static)
        if rows:
            hint.update("Enter opens a session · n creates one · F1 help")
            table.focus()
        else:
            hint.update(
                "No session yet. Press n to create one from your region's plan, "
                "or D for a realistic demo."
            )

    def on_roundtable_app_session_changed(self) -> None:
        self.action_reload()

    @on(DataTable.RowSelected, "#sessions")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.app.open_session(str(event.row_key.value))

    def action_open(self) -> None:
        table = self.query_one("#sessions", DataTable)
        if table.row_count == 0:
            self.notify("No session to open: press n to create one.", severity="warning")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
        self.app.open_session(str(key.value))

    def action_new(self) -> None:
        def created(session_id: str | None) -> None:
            if session_id:
                self.action_reload()
                self.app.open_session(session_id)

        self.app.push_screen(NewSessionModal(), created)

    def action_demo(self) -> None:
        from roundtable.demo import create_demo

        session_id = create_demo(self.app.local, self.app.roster)
        self.notify("Demo Africa round table created.")
        self.action_reload()
        self.app.open_session(session_id)

    def palette_commands(self):
        yield ("session: new", "Create a session from a regional plan", self.action_new)
        yield ("session: open", "Open the selected session", self.action_open)
        yield ("session: create demo", "A realistic half-run Africa session", self.action_demo)


class NewSessionModal(AppModal[str | None]):
    """Event, region (or plan file), title, room and date: enough to start."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="new.cancel", tooltip="Create nothing")]

    def compose(self) -> ComposeResult:
        app = self.app
        events = [e.name for e in app.local.events()]
        default_event = app.settings.conference or (events[0] if events else "")
        if not default_event:
            default_event = f"Regional round tables {dt.date.today().year}"
        with Vertical(classes="dialog wide"):
            yield Label("New round-table session", classes="dialog-title")
            yield Label("Event")
            yield Input(default_event, id="new-event")
            yield Label("Region")
            yield Select(
                [(name, key) for key, name in REGIONS.items()],
                id="new-region",
                allow_blank=False,
                value="africa",
            )
            yield Label("Plan file (optional: empty = the region's built-in plan)")
            yield Input("", placeholder="path/to/plan.toml", id="new-plan")
            yield Label("Title (optional: empty = the plan's)")
            yield Input("", id="new-title")
            with Horizontal(classes="row"):
                yield Input("", placeholder="Room", id="new-room")
                yield Input(dt.date.today().isoformat(), placeholder="YYYY-MM-DD", id="new-date")
            yield Label("Venue time zone (every time is shown in it; default: this laptop's)")
            yield Input(
                self._event_zone(default_event) or self.laptop_zone,
                placeholder="Europe/Paris",
                id="new-tz",
            )
            encrypt = app.settings.encrypt_new_sessions
            yield Checkbox(
                "Encrypt at rest (asks for a passphrase every time the session opens)",
                encrypt,
                id="new-encrypt",
            )
            with Horizontal(classes="row", id="new-pass-row") as row:
                row.display = encrypt  # shown when Encrypt is ticked
                yield Input(placeholder="Passphrase", password=True, id="new-pass")
                yield Input(placeholder="Passphrase again", password=True, id="new-pass2")
            yield Label("", id="new-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    @property
    def laptop_zone(self) -> str:
        from roundtable.zones import laptop_zone

        return laptop_zone()

    def _event_zone(self, name: str) -> str:
        """The zone of the event of that name on this laptop ("" if none or older)."""
        event = self.app.local.find_event(name.strip()) if name.strip() else None
        return event.tz if event is not None else ""

    @on(Input.Changed, "#new-event")
    def _event_changed(self, event: Input.Changed) -> None:
        zone = self._event_zone(event.value)
        if zone:  # an existing event: its venue's zone, shown
            self.query_one("#new-tz", Input).value = zone

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)

    @on(Checkbox.Changed, "#new-encrypt")
    def _encrypt_changed(self, event: Checkbox.Changed) -> None:
        self.query_one("#new-pass-row").display = event.value
        if event.value:
            self.query_one("#new-pass", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        import sessions as plans
        from roundtable.store import StoreError

        error = self.query_one("#new-error", Label)
        name = self.query_one("#new-event", Input).value.strip()
        region = str(self.query_one("#new-region", Select).value)
        plan_path = self.query_one("#new-plan", Input).value.strip()
        title = self.query_one("#new-title", Input).value.strip()
        room = self.query_one("#new-room", Input).value.strip()
        date = self.query_one("#new-date", Input).value.strip()
        tz = self.query_one("#new-tz", Input).value.strip()
        if not name:
            error.update("Event: give the conference's name")
            return
        from roundtable.zones import ZoneError, check_zone

        try:
            check_zone(tz, "Time zone")
        except ZoneError as exc:
            error.update(str(exc))
            return
        passphrase = None
        if self.query_one("#new-encrypt", Checkbox).value:
            passphrase = self.query_one("#new-pass", Input).value
            if not passphrase:
                error.update("Passphrase: give one to encrypt the session (or untick Encrypt)")
                return
            if passphrase != self.query_one("#new-pass2", Input).value:
                error.update("Passphrase: the two passphrases differ")
                return
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            error.update(f"Date: expected YYYY-MM-DD, got {date!r}")
            return
        try:
            if plan_path:
                plan = plans.load_plan(Path(plan_path).expanduser())
                region = plan.region
            else:
                plan = plans.plan_for_region(region)
            if plan.tz and tz == self.laptop_zone:  # the field left as it was: the plan's
                tz = plan.tz
            local = self.app.local
            event = local.event_in_zone(name, tz, chosen=True, where="Time zone")
            session = local.create_session(
                event.id,
                region,
                title or plan.title,
                plan.to_agenda(),
                room=room,
                date=date,
                plan=plan.name,
                passphrase=passphrase,
            )
        except (plans.PlanError, StoreError, ZoneError, OSError) as exc:
            error.update(str(exc))
            return
        self.dismiss(session.id)


class PassphraseModal(AppModal[bool]):
    """The passphrase of an encrypted session, asked when it opens: the key is derived and
    checked by the store; a wrong one is one line here, and nothing is read or changed."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="passphrase.cancel", tooltip="Leave it locked")
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__()
        self.session_id = session_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("Encrypted session", classes="dialog-title")
            yield Label(f"Passphrase for session {self.session_id[:13]}…")
            yield Input(password=True, id="passphrase")
            yield Label("", id="passphrase-error", classes="error-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Open", variant="primary", id="unlock")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#passphrase", Input).focus()

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)

    @on(Input.Submitted, "#passphrase")
    @on(Button.Pressed, "#unlock")
    def _unlock(self) -> None:
        from roundtable.store import StoreError

        field = self.query_one("#passphrase", Input)
        try:
            self.app.local.unlock(self.session_id, field.value)
        except StoreError as exc:
            self.query_one("#passphrase-error", Label).update(str(exc))
            field.value = ""
            field.focus()
            return
        self.dismiss(True)
