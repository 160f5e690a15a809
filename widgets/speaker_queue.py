"""Speaker queue for open discussion: who has the floor, for how long, and who waits."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Static

from roundtable.text import mmss


class SpeakerQueue(Vertical):
    """Open-discussion queue; the screen validates codes before ``add`` and records speeches."""

    DEFAULT_CSS = """
    SpeakerQueue { height: 1fr; padding: 0 1; }
    SpeakerQueue > .queue-current { height: 1; text-style: bold; }
    SpeakerQueue > .queue-waiting { height: 1fr; }
    """

    class SpeakerStarted(Message):
        def __init__(self, code: str) -> None:
            super().__init__()
            self.code = code

    class SpeechFinished(Message):
        def __init__(self, code: str, seconds: int) -> None:
            super().__init__()
            self.code = code
            self.seconds = seconds

    def __init__(
        self,
        names: Mapping[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.names = dict(names or {})
        self.clock = clock or time.time
        self.waiting: list[str] = []
        self.current: str | None = None
        self.started = 0.0

    def compose(self) -> ComposeResult:
        yield Static("", classes="queue-current")
        yield Static("", classes="queue-waiting")

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_view)
        self.refresh_view()

    def add(self, code: str) -> bool:
        """Queue ``code`` at the end; False when it is already queued or has the floor."""
        if code in self.waiting or code == self.current:
            return False
        self.waiting.append(code)
        self.refresh_view()
        return True

    def remove(self, code: str) -> bool:
        """Take ``code`` out of the waiting list; False when it was not waiting."""
        if code not in self.waiting:
            return False
        self.waiting.remove(code)
        self.refresh_view()
        return True

    def finish_current(self, post: bool = True) -> tuple[str, int] | None:
        """End the current speech; with ``post=False`` the caller records the result."""
        ended = None
        if self.current is not None:
            seconds = int(self.clock() - self.started)
            code, self.current = self.current, None
            ended = (code, seconds)
            if post:
                self.post_message(self.SpeechFinished(code, seconds))
        self.refresh_view()
        return ended

    def next(self) -> str | None:
        """End the current speech and give the floor to the head of the queue."""
        self.finish_current()
        if not self.waiting:
            self.refresh_view()
            return None
        self.current = self.waiting.pop(0)
        self.started = self.clock()
        self.post_message(self.SpeakerStarted(self.current))
        self.refresh_view()
        return self.current

    def refresh_view(self) -> None:
        """Redraw the floor line (with elapsed time) and the waiting list."""
        name = self.names.get
        if self.current:
            text = f"Floor: {name(self.current, self.current)}  {mmss(self.clock() - self.started)}"
        else:
            text = "Floor: nobody (ctrl+e gives it to the next in the queue)"
        self.query_one(".queue-current", Static).update(text)
        lines = [f"{n}. {name(c, c)}" for n, c in enumerate(self.waiting, start=1)]
        self.query_one(".queue-waiting", Static).update("\n".join(lines) or "Queue is empty.")
