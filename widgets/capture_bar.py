"""The facilitator's command line: type, Enter, see it saved (or see exactly what is wrong)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

PLACEHOLDER = (
    "/issue /need /action /decide /note /park · @GH delegation · #tag · !high · Enter saves"
)


@dataclass(frozen=True)
class CaptureContext:
    """Where a capture goes: the agenda item and the delegation with the floor (its code, or
    ""), as the screen's ``context`` source tells them when Enter is read."""

    agenda_item: str = ""
    floor: str = ""


class _CaptureInput(Input):
    """Enter is handled when the Input itself reads the key, in the order keys were typed:
    a key pressed after Enter (ctrl+n) cannot change where the line is filed."""

    async def _on_key(self, event: events.Key) -> None:
        if event.key == "enter":
            event.stop()
            event.prevent_default()
            bar = self.parent
            if isinstance(bar, CaptureBar):
                bar.submit()
            return
        await super()._on_key(event)


class CaptureBar(Vertical):
    """An Input with a status line under it.  It parses the line with the screen's ``parse``
    (which raises ValueError with a one-line message) and posts one ``Submitted`` carrying the
    parsed capture and the context at Enter; the screen only stores it and reports back."""

    DEFAULT_CSS = """
    CaptureBar { height: auto; padding: 0 1; background: $surface; }
    CaptureBar > Input { border: none; width: 1fr; height: 1; padding: 0 1; background: $boost; }
    CaptureBar > Input:focus { border: none; background: $primary 25%; }
    CaptureBar > .capture-status { height: 1; width: 1fr; color: $text-muted; }
    CaptureBar > .capture-status.-error { color: $error; }
    CaptureBar > .capture-status.-saved { color: $success; }
    """

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Leave capture",
            id="capture.leave",
            tooltip="Leave the capture bar (keys work on the list again)",
        ),
        Binding(
            "up",
            "history(-1)",
            "Previous line",
            show=False,
            id="capture.previous",
            tooltip="Recall the previous line",
        ),
        Binding(
            "down",
            "history(1)",
            "Next line",
            show=False,
            id="capture.next",
            tooltip="Recall the next line",
        ),
    ]

    class Submitted(Message):
        """A line parsed at Enter: ``captured`` is what ``parse`` returned, ``context`` the
        item and floor current when Enter was pressed."""

        def __init__(self, line: str, captured: Any = None, context: CaptureContext | None = None):
            super().__init__()
            self.line = line
            self.captured = captured
            self.context = context or CaptureContext()

    class Cancelled(Message):
        pass

    def __init__(
        self,
        parse: Callable[[str], Any] | None = None,
        *,
        context: Callable[[], CaptureContext] | None = None,
        placeholder: str = PLACEHOLDER,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.parse = parse
        self.context = context or CaptureContext
        self.placeholder = placeholder
        self.history: list[str] = []
        self._error_line = ""
        self._history_index = 0
        self._pending: list[str] = []
        """Lines posted and not answered yet (``show_saved``, ``show_error``), in order: their
        text stays at the front of the input until then, so an Enter typed meanwhile posts only
        what follows them."""
        self._held = ""
        """A line the screen could not store, kept at the front of the input for fixing."""

    def compose(self) -> ComposeResult:
        yield _CaptureInput(placeholder=self.placeholder, id="capture-input")
        yield Static("", classes="capture-status")

    @property
    def input(self) -> Input:
        """The Input widget (tests and the screen set or read its value)."""
        return self.query_one(Input)

    def focus_input(self, prefix: str = "") -> None:
        """Focus the input; ``prefix`` (e.g. "/action ") goes in only when the input is empty."""
        inp = self.input
        if prefix and not inp.value:
            inp.value = prefix
            inp.cursor_position = len(prefix)
        inp.focus()

    def _status(self, text: str, kind: str) -> None:
        status = self.query_one(".capture-status", Static)
        status.update(text, layout=False)  # one line of fixed size: repaint, no re-layout
        status.set_class(kind == "error", "-error")
        status.set_class(kind == "saved", "-saved")

    def show_error(self, message: str, answer: bool = True) -> None:
        """Show why the line was not saved (the text stays in the input) until it is edited.
        With ``answer``, the screen's reply to the oldest line posted: it is no longer waiting,
        and stays in the input for fixing."""
        if answer and self._pending:
            self._held += self._pending.pop(0)
        self._error_line = self.input.value
        self._status(f"✗ {message}", "error")

    def show_saved(self, message: str, answer: bool = True) -> None:
        """Confirm the last save, e.g. "Saved issue #12: Synthetic drug routes…", and empty the
        input.  The line stays in the input until then, so a line the screen could not store is
        never lost; anything typed after Enter is kept."""
        self._status(f"✓ {message}", "saved")
        if answer:
            self.clear_submitted()

    def show_info(self, message: str) -> None:
        """Say what just happened elsewhere (an entry deleted), leaving the input as it is:
        the line never keeps "Saved" about an entry that is gone."""
        self._status(message, "info")

    def clear_submitted(self) -> None:
        """Remove the oldest line posted from the input (it was handled)."""
        if not self._pending:
            return
        line = self._pending.pop(0)
        value, at = self.input.value, len(self._held)
        if value.startswith(self._held) and value[at:].startswith(line):
            self.input.value = value[:at] + value[at + len(line) :]

    def submit(self) -> None:
        """Parse the line and post it with the context of this moment (Enter)."""
        value = self.input.value
        waiting = self._held + "".join(self._pending)
        if self._pending and value.startswith(waiting):
            line = value[len(waiting) :]  # typed after lines still being stored
        else:
            line, self._held = value, ""  # the whole input (a held line fixed and sent again)
            self._pending.clear()
        if not line.strip():
            return
        captured = None
        if self.parse is not None:
            try:
                captured = self.parse(line)
            except ValueError as exc:
                self.show_error(str(exc), answer=False)
                return
        self.history.append(line)
        self._history_index = len(self.history)
        self._pending.append(line)
        self.post_message(self.Submitted(line, captured, self.context()))

    @on(Input.Changed, "#capture-input")
    def _changed(self, event: Input.Changed) -> None:
        # Changed messages of keys typed before Enter may arrive after it: only an edit of the
        # line the error is about clears the error
        status = self.query_one(".capture-status", Static)
        if status.has_class("-error") and self.input.value != self._error_line:
            self._status("", "")

    def action_cancel(self) -> None:
        self.post_message(self.Cancelled())

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._history_index = max(0, min(len(self.history), self._history_index + step))
        value = self.history[self._history_index] if self._history_index < len(self.history) else ""
        self.input.value = value
        self.input.cursor_position = len(value)
