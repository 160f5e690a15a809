"""The room's projector: a second, read-only Textual app following a session live (issue 26).

The facilitator's app is the session's single writer; this app runs in another window on the
same laptop (the one on the room's projector) and never takes the writer's lock or writes a
file: it opens the session read-only (``LocalStore.open_session(read_only=True)``), reads what
it needs and closes it again.  It follows the journal by looking at the size and modification
time of the session's files every ``POLL_SECONDS`` (the one place where watching another
process is the design) and redraws within a second of a write.  What it draws comes from the
pure view model ``roundtable.projection``: procedural facts only, never an entry.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Digits, Static

from roundtable.projection import ProjectorView, build_view

POLL_SECONDS = 0.5
"""How often the session's files are looked at (size and modification time)."""
WATCHED = ("journal.jsonl", "view.json")

CSS = """
Screen { background: $background; }
#banner { height: 1; background: $primary; color: $text; text-style: bold; padding: 0 1; }
#message { height: auto; padding: 0 1; border: heavy $success; text-style: bold;
           margin: 0 1; display: none; }
#message.-shown { display: block; }
#status { height: auto; padding: 0 1; text-style: bold; color: $warning; }
#item-title { height: auto; padding: 0 1; text-style: bold; }
#clocks { height: auto; }
#item-box, #floor-box { width: 1fr; height: auto; padding: 0 1; }
#floor-name { text-style: bold; }
Digits { width: auto; }
.caption { color: $text-muted; }
.-warning { color: $warning; }
.-over { color: $error; }
#lists { height: 1fr; }
#queue, #tour, #agenda { width: 1fr; padding: 0 1; }
#agenda { display: none; }
#agenda.-shown { display: block; }
"""


def _state_class(widget: Any, state: str) -> None:
    widget.set_class(state == "warning", "-warning")
    widget.set_class(state == "over", "-over")


class ProjectorApp(App[int]):
    """What the room sees: the item, its time box, the floor, the list, the tour, the agenda."""

    CSS = CSS
    TITLE = "roundtable projector"
    BINDINGS = [Binding("q", "quit", "Quit", id="projector.quit", tooltip="Close the projector")]
    ENABLE_COMMAND_PALETTE = False

    def __init__(
        self,
        *,
        home: Path | None = None,
        local: Any = None,
        session_id: str | None = None,
        clock: Callable[[], float] | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        super().__init__()
        from roundtable.config import home_dir
        from roundtable.store import LocalStore

        self.local = local if local is not None else LocalStore(home or home_dir())
        self.wanted = session_id
        self.session_id: str | None = None
        self.clock = clock or time.time
        self.poll_seconds = poll_seconds
        self.view: ProjectorView | None = None
        self.problem = ""
        self.reloads = 0
        self._signature: tuple | None = None
        self._records: dict[str, Any] | None = None
        self._names: dict[str, str] = {}

    # -- layout ----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="banner", markup=False)
        yield Static("", id="status", markup=False)
        yield Static("", id="message", markup=False)
        yield Static("", id="item-title", markup=False)
        with Horizontal(id="clocks"):
            with Vertical(id="item-box"):
                yield Static("", classes="caption", id="item-caption", markup=False)
                yield Digits("", id="item-time")
            with Vertical(id="floor-box"):
                yield Static("", id="floor-name", markup=False)
                yield Digits("", id="floor-time")
        with Horizontal(id="lists"):
            yield Static("", id="queue", markup=False)
            yield Static("", id="tour", markup=False)
            yield Static("", id="agenda", markup=False)

    def on_mount(self) -> None:
        from sessions import load_roster

        self._names = {code: c.name for code, c in load_roster().items()}
        self._start()
        self.set_interval(self.poll_seconds, self.poll)

    def _start(self) -> None:
        from roundtable.errors import RoundtableError

        try:
            self.session_id = self._choose()
        except RoundtableError as exc:
            self.problem = str(exc)
            self.render_view()
            return
        if self.local.is_locked(self.session_id):
            from roundtable.screens.home import PassphraseModal

            def unlocked(ok: bool | None) -> None:
                if ok:
                    self.poll(force=True)
                else:
                    self.exit(1, message="projector: the session stays locked")

            self.push_screen(PassphraseModal(self.session_id), unlocked)
            return
        self.poll(force=True)

    def _choose(self) -> str:
        """The session asked for; else the open session (the latest one opened)."""
        from roundtable.store import StoreError

        if self.wanted:
            return self.local.resolve_session(self.wanted)
        found = self.local.sessions()
        open_ = [s for s in found if s.status == "running"] or found
        if not open_:
            raise StoreError("no session to project; create one with roundtable new")
        return max(open_, key=lambda s: (s.date, s.id)).id

    # -- following the session -------------------------------------------------------------

    def _files_signature(self) -> tuple | None:
        if self.session_id is None:
            return None
        path = self.local.home / "sessions" / self.session_id
        sig: list[tuple[int, int, int] | None] = []
        for name in WATCHED:
            try:
                st = (path / name).stat()
            except OSError:
                sig.append(None)
                continue
            sig.append((st.st_size, st.st_mtime_ns, st.st_ino))
        return tuple(sig)

    def poll(self, force: bool = False) -> None:
        """Reload when the session's files changed; redraw the clocks in any case."""
        if self.session_id is None or self.local.is_locked(self.session_id):
            return
        signature = self._files_signature()
        if force or signature != self._signature:
            self._reload(signature)
        self.render_view()

    def _reload(self, signature: tuple | None) -> None:
        from roundtable.errors import RoundtableError

        assert self.session_id is not None
        try:
            with self.local.open_session(self.session_id, read_only=True) as ss:
                self._records = {
                    "event": ss.event,
                    "session": ss.session,
                    "agenda": ss.records("agenda_item"),
                    "clock_events": ss.clock_events(),
                    "speeches": ss.speeches(),
                    "speakers": ss.records("speaker"),
                }
        except RoundtableError as exc:
            # the writer may be between a rename and a write: keep the last view, say so
            self.problem = f"waiting for the session: {exc}"
            return
        except OSError as exc:
            self.problem = f"waiting for the session: {exc.strerror or exc}"
            return
        self.problem = ""
        self._signature = signature
        self.reloads += 1

    def current_view(self) -> ProjectorView | None:
        from roundtable.model import REGIONS

        if self._records is None:
            return None
        session = self._records["session"]
        return build_view(
            **self._records,
            names=self._names,
            now_ms=int(self.clock() * 1000),
            region_name=REGIONS.get(session.region, session.region),
        )

    # -- drawing ---------------------------------------------------------------------------

    def render_view(self) -> None:
        from textual.app import ScreenStackError
        from textual.css.query import NoMatches

        view = self.view = self.current_view()
        try:
            status = self.screen.query_one("#status", Static)
        except (NoMatches, ScreenStackError):  # the passphrase dialog is up, or the app is
            return  # closing (its screens gone before the last tick of the poll's timer)
        if view is None:
            status.update(self.problem or "opening the session…")
            status.display = True
            return
        banner = f"{view.event} · {view.region}"
        self.screen.query_one("#banner", Static).update(banner)
        notes = []
        if view.closed:
            notes.append("Session closed")
        elif view.status == "planned":
            notes.append("The session has not started")
        if self.problem:
            notes.append(self.problem)
        status.update(" · ".join(notes))
        status.display = bool(notes)
        message = self.screen.query_one("#message", Static)
        message.update(view.projected)
        message.set_class(bool(view.projected), "-shown")
        self._draw_item(view)
        self._draw_floor(view)
        self._draw_lists(view)

    def _draw_item(self, view: ProjectorView) -> None:
        title = self.screen.query_one("#item-title", Static)
        digits = self.screen.query_one("#item-time", Digits)
        caption = self.screen.query_one("#item-caption", Static)
        if not view.item_number:
            title.update("No agenda item")
            digits.update("")
            return
        count = len(view.agenda)
        title.update(f"Item {view.item_number} of {count} · {view.item_title}")
        digits.update(view.item_countdown)
        _state_class(digits, view.item_state)
        box = f"time box {view.item_total // 60} min"
        caption.update(
            {
                "idle": f"Not started · {box}",
                "paused": f"Paused · {box}",
                "stopped": f"Ended · {box}",
            }.get(view.item_clock, f"Time left · {box}")
            + (" · over time" if view.item_state == "over" else "")
        )

    def _draw_floor(self, view: ProjectorView) -> None:
        name = self.screen.query_one("#floor-name", Static)
        digits = self.screen.query_one("#floor-time", Digits)
        if not view.floor_name:
            name.update("The floor is free")
            digits.update("")
            return
        mark = f" ({view.floor_mark})" if view.floor_mark else ""
        kind = "tour de table" if view.floor_mode == "tour" else "list of speakers"
        name.update(f"The floor: {view.floor_name}{mark} · {kind}")
        digits.update(view.floor_countdown)
        _state_class(digits, view.floor_state)

    def _draw_lists(self, view: ProjectorView) -> None:
        queue = self.screen.query_one("#queue", Static)
        tour = self.screen.query_one("#tour", Static)
        agenda = self.screen.query_one("#agenda", Static)
        if view.between_items or view.closed:
            queue.display = tour.display = False
            agenda.add_class("-shown")
            lines = ["Agenda"]
            for a in view.agenda:
                here = "▶" if a.current else ("✓" if a.done else " ")
                lines.append(f"{here} {a.number}. {a.title} ({a.minutes} min)")
            agenda.update("\n".join(lines))
            return
        agenda.remove_class("-shown")
        queue.display = True
        rows = ["Next on the list"]
        for n, s in enumerate(view.next_speakers, 1):
            mark = f" [{s.mark}]" if s.mark else ""
            rows.append(f"{n}. {s.name}{mark}")
        if not view.next_speakers:
            rows.append("nobody listed")
        if view.more_listed:
            rows.append(f"… and {view.more_listed} more")
        queue.update("\n".join(rows))
        tour.display = bool(view.tour)
        if view.tour:
            out = [f"Tour de table · {view.tour_done} of {len(view.tour)}"]
            for name, mark in view.tour:
                sign = {"speaking": "▶", "heard": "✓", "passed": "–", "skipped": "×"}.get(mark, " ")
                word = {"passed": " passed", "skipped": " out"}.get(mark, "")
                out.append(f"{sign} {name}{word}")
            tour.update("\n".join(out))
