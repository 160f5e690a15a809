"""The time box of the current agenda item: remaining, then overtime."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.widgets import Static

from roundtable.projection import warning_seconds


def format_box(remaining: float) -> str:
    """ "12:05 left" while inside the box, "+01:30 over" past it."""
    seconds = int(abs(remaining) + (0.999 if remaining > 0 else 0))
    text = f"{seconds // 60:02d}:{seconds % 60:02d}"
    return f"{text} left" if remaining > 0 else f"+{text} over"


class TimeBoxTimer(Static):
    """Counts down the item's time box from the item clock's reading.

    The clock itself is records (``roundtable.meeting``); the screen gives the timer a reading
    (``show``: seconds used at a moment, and whether the clock runs) and the timer only adds
    the time since that moment while the clock runs.  ``-warning`` in the last 2 minutes or
    last 20 % of the box, whichever is shorter (a 5-minute item warns at 1:00, a 30-minute item
    at 2:00); ``-overtime`` past it; ``-paused`` when the clock does not run.
    """

    DEFAULT_CSS = """
    TimeBoxTimer { width: auto; min-width: 14; padding: 0 1; background: $success 30%; }
    TimeBoxTimer.-warning { background: $warning 60%; color: $text; }
    TimeBoxTimer.-overtime { background: $error 70%; color: $text; text-style: bold; }
    TimeBoxTimer.-paused { background: $panel; color: $text-muted; }
    """

    STATE_HINTS = {"idle": " (s starts)", "paused": " paused", "stopped": " stopped"}

    def __init__(self, clock: Callable[[], float] | None = None, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.clock = clock or time.time
        self.box = 0
        self.key = ""
        self.state = "idle"  # idle | running | paused | stopped | closed
        self.used = 0.0  # seconds the clock had run at ``read_at``
        self.read_at = 0.0
        # the classes of this state from the start: mounting then changes none, and the
        # timer is not styled again before the screen shows its item (start-up, issue 22)
        self.update_classes(self._classes_now(self.remaining()), update=False)

    def on_mount(self) -> None:
        self.set_interval(1.0, self.refresh_time)
        self.refresh_time()

    def show(self, key: str, box: int, used: float, state: str) -> None:
        """Show item ``key``'s box of ``box`` seconds, ``used`` seconds used now; the count
        goes on only while ``state`` is "running"."""
        if box < 0:
            raise ValueError(f"time box of item {key!r} is negative: {box} s")
        self.key, self.box, self.used, self.state = key, box, used, state
        self.read_at = self.clock()
        self.refresh_time()

    warning_percent = 0
    """The session's warning threshold (``Session.warning_percent``, ``warning_seconds``; 0 =
    the defaults, the last 20 % or 30 s), set by the screen; one rule for every countdown."""
    warning_cap = 0

    @property
    def paused(self) -> bool:
        """The clock does not run: the display stands still."""
        return self.state != "running"

    def remaining(self) -> float:
        """Seconds left in the box (negative in overtime)."""
        used = self.used + (self.clock() - self.read_at if self.state == "running" else 0)
        return self.box - used

    def refresh_time(self) -> None:
        """Redraw text and classes from the clock (called every second, and by tests)."""
        remaining = self.remaining()
        warn_at = warning_seconds(self.box, self.warning_percent, self.warning_cap)
        text = format_box(remaining) + self.STATE_HINTS.get(self.state, "")
        if self.state == "closed":
            text = format_box(remaining) + " (closed)"
        self.update(text)
        self.update_classes(self._classes_now(remaining, warn_at))

    def _classes_now(self, remaining: float, warn_at: float | None = None) -> dict[str, bool]:
        """The state classes for ``remaining`` seconds (set in one batch: one restyle)."""
        if warn_at is None:
            warn_at = warning_seconds(self.box, self.warning_percent, self.warning_cap)
        started = self.state != "idle"
        return {
            "-overtime": remaining <= 0,
            "-warning": 0 < remaining <= warn_at and started,
            "-paused": self.paused,
        }
