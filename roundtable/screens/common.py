"""Pieces every screen uses: the status line and two small modals."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from roundtable.model import REGIONS
from widgets import SyncBadge


class StatusLine(Horizontal):
    """Session · region · room · status on the left; the sync badge and the clock on the right."""

    DEFAULT_CSS = """
    StatusLine { height: 1; background: $panel; }
    StatusLine > .status-session { width: 1fr; padding: 0 1; }
    StatusLine > .status-clock { width: 7; }
    """

    def compose(self) -> ComposeResult:
        yield Static("", classes="status-session")
        yield SyncBadge()
        yield Static("", classes="status-clock")

    def on_mount(self) -> None:
        self.refresh_status()
        self.set_interval(1.0, self.refresh_status)

    def refresh_status(self) -> None:
        app = self.app
        parts = []
        store = getattr(app, "session_store", None)
        if store is not None and not store.closed:
            s = store.session
            parts.append(s.title or "Untitled session")
            parts.append(REGIONS.get(s.region, s.region))
            if s.room:
                parts.append(s.room)
            parts.append(s.status)
        else:
            parts.append("No session open")
        self.query_one(".status-session", Static).update(" · ".join(parts))
        state, label = getattr(app, "sync_state", ("off", "not connected"))
        self.query_one(SyncBadge).set_state(state, label)
        clock = getattr(app, "clock", time.time)
        self.query_one(".status-clock", Static).update(
            time.strftime("%H:%M", time.localtime(clock()))
        )


class ConfirmModal(ModalScreen[bool]):
    """Yes/no, with the consequence spelled out.  Enter = yes, Escape = no."""

    BINDINGS = [
        Binding("escape", "answer(False)", "Cancel", id="confirm.no", tooltip="Do nothing"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Go ahead"),
    ]

    def __init__(self, question: str, yes: str = "Yes", no: str = "Cancel") -> None:
        super().__init__()
        self.question = question
        self.yes_label = yes
        self.no_label = no

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-text")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes_label, variant="primary", id="yes")
                yield Button(self.no_label, id="no")

    def on_mount(self) -> None:
        self.query_one("#yes", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class PromptModal(ModalScreen[str | None]):
    """Ask for one line of text; ``validate`` returns an error message or None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel", tooltip="Keep as is")]

    def __init__(self, question: str, value: str = "", validate=None, placeholder: str = ""):
        super().__init__()
        self.question = question
        self.value = value
        self.validate = validate
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.question, classes="dialog-text")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Label("", id="prompt-error", classes="error-text")

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        if self.validate is not None:
            error = self.validate(event.value)
            if error:
                self.query_one("#prompt-error", Label).update(error)
                return
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)
