"""The Textual application: the App class only.  Screens live in roundtable/screens/.

The app is the single owner of the store: every store call happens on the app's event loop
(tinydb is not thread-safe), and the sync worker is an async worker on the same loop.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen
from textual.signal import Signal
from textual.worker import Worker, WorkerState

from roundtable import config
from roundtable.errors import RoundtableError

if TYPE_CHECKING:
    from roundtable.store import SessionStore
    from sessions.roster import Roster

IDLE_CHECKPOINT = (5.0, 2.0)
"""Every 5 s, write the open session's view if nothing was typed for 2 s."""
AFTER_FIRST_SCREEN = 0.02
"""Seconds between the first screen and what a screen adds after it (``after_first_screen``)."""
HISTORY_STEP = (100, 0.01)
"""After a session opens, its journal's history (the outbox, the undo stack) is read 100
lines at a time, 10 ms apart: the first screen does not wait for it, and no slice holds a key
back for long (7 ms median, 17 ms for the first, which reads the file, at 5,000 entries)."""


class RoundtableApp(App[int]):
    """Run a regional round table: pick a session, roll call, agenda, capture, close, minutes."""

    CSS_PATH = Path(__file__).with_name("app.tcss")
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]
    """Screen classes by terminal size (issue 22): under 100 columns the run screen drops its
    agenda pane (the item's title and number stay above the entries), under 32 rows dialogs
    take one row a field and the run screen gives its rows to the entries."""
    TITLE = "roundtable"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("f1", "help", "Help", id="app.help", tooltip="Every key and the capture grammar"),
        Binding("question_mark", "help", "Help", show=False, id="app.help2", tooltip="Help screen"),
        Binding("f2", "sync_now", "Sync", id="app.sync", tooltip="Sync with the secretariat now"),
        Binding(
            "ctrl+t", "toggle_theme", "Theme", id="app.theme", tooltip="Switch light/dark theme"
        ),
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Save and quit", priority=True),
    ]

    sync_state: var[tuple[str, str]] = var(("off", "not connected"))
    """Where sync stands, (state, label): set by the sync worker only; the status lines watch
    it (``StatusLine``), nobody asks."""

    def __init__(
        self,
        *,
        home: Path | None = None,
        session_id: str | None = None,
        clock: Callable[[], float] | None = None,
        settings: config.Settings | None = None,
        sync_enabled: bool = True,
    ) -> None:
        super().__init__()
        from roundtable.store import LocalStore

        self.home = home or config.home_dir()
        self.settings = settings or config.load_settings()
        self.clock = clock or time.time
        self._venue: tuple[str, str] | None = None  # (session id, its event's zone)
        # checkpoints normally happen when idle (below); ``checkpoint_every`` changes is the
        # backstop for a facilitator who never stops typing
        self.local = LocalStore(
            self.home, checkpoint_every=self.settings.checkpoint_every, wall=self.clock
        )
        self.session_store: SessionStore | None = None
        self._opening: str | None = None  # the session a worker is opening (``open_session_soon``)
        self._changed_keys: set[tuple[str, str]] | None = set()
        self._change_posted = False
        self.initial_session = session_id
        self.sync_enabled = sync_enabled
        self.session_signal: Signal[frozenset[tuple[str, str]] | None] = Signal(
            self, "session-changed"
        )
        """Records of the open session changed (a capture, a key, a sync pull): the one signal
        screens take their state from (``screens.common.follow_session``).  Its data lists the
        ``(kind, record id)`` pairs changed, or is None when anything may have changed (undo, a
        pull, another session).  Published once after the handler that wrote."""
        self._last_sync_ok: float | None = None
        self._offline_since: float | None = None
        self._started = time.perf_counter()
        self._last_input = time.monotonic()
        self._sync_after_history = False
        self._first_screen_shown = False
        self._after_first_screen: list[Callable[[], object]] = []
        self._history_chain = 0  # which reading of a history is current (see _read_history_soon)

    @property
    def roster(self) -> Roster:
        """The member-country roster, read when first asked for: the sessions list never needs
        it (start-up, issue 22); read once a process (``load_roster`` caches it)."""
        from sessions import load_roster

        return load_roster()

    # -- life cycle ------------------------------------------------------------------------

    def on_load(self) -> None:
        # Start-up allocates the open session's records (tens of thousands of objects at 5,000
        # entries) and every widget, then its history: with the collector on, its full passes
        # over them cost ~0.35 s before the first frame, and up to ~60 ms in one slice of the
        # history.  Nothing cyclic is freed in that time; the collector is back on once the
        # first screen is up and the history read (``_collector_back_on``).
        self._collector_off()

    def _collector_off(self) -> None:
        self._gc_was_enabled = gc.isenabled() or getattr(self, "_gc_was_enabled", False)
        gc.disable()

    def _collector_back_on(self) -> None:
        """What was loaded lives as long as the session is open: frozen, it stays out of the
        collector's later full passes (~200 ms at 5,000 entries, right when a capture should
        reach the screen)."""
        gc.freeze()
        if getattr(self, "_gc_was_enabled", False):
            self._gc_was_enabled = False
            gc.enable()

    def _started_up(self) -> None:
        """The first screen is up: the session's history is read, then the collector is back
        on (at once when no session is open)."""
        if not self._first_screen_shown:
            self._first_screen_shown = True
            waiting, self._after_first_screen = self._after_first_screen, []
            for callback in waiting:
                # a moment idle first: Textual's writer thread needs the GIL to put the frame
                # on the terminal, and a busy event loop held it back ~15 ms (traced in tmux)
                self.set_timer(AFTER_FIRST_SCREEN, callback)
            if self.session_store is not None:
                self._read_history_soon(self.session_store)
                return
        self._collector_back_on()

    def after_first_screen(self, callback: Callable[[], object]) -> None:
        """Run ``callback`` once the first screen has gone to the terminal (at once, after the
        next refresh, when it has): what a screen adds after its first frame must not delay
        that frame (Textual may discard a frame drawn inside a batch and draw it again later)."""
        if self._first_screen_shown:
            self.call_after_refresh(callback)
        else:
            self._after_first_screen.append(callback)

    def _read_history_soon(self, store, chain: int | None = None) -> None:
        """Schedule the next slice; a new ``chain`` (a session just opened) ends any other."""
        if chain is None:
            self._history_chain += 1
            chain = self._history_chain
        self.set_timer(HISTORY_STEP[1], partial(self._load_history_step, store, chain))

    def get_default_screen(self) -> Screen:
        """Started without a session, the session list is the first screen itself, not a
        screen pushed over Textual's blank one: the blank one is never built, styled or laid
        out again on every resize (start-up, issue 22)."""
        if self.initial_session:
            return super().get_default_screen()
        from roundtable.screens.home import HomeScreen

        return HomeScreen()

    def on_mount(self) -> None:
        self.theme = self.settings.theme
        if self.settings.keymap:
            self.set_keymap(self.settings.keymap)
        # Opened on a session, the session list is built only when first asked for (start-up);
        # opened on none, the list is the default screen (``get_default_screen``).
        if self.initial_session:
            # after Textual's start-up batch: a screen pushed inside it is drawn, the frame
            # dropped, and drawn again once the batch ends (~20 ms of the first frame)
            self.call_later(self._open_initial_session)
        if self.sync_enabled and self._sync_configured():
            self.sync_state = ("pending", "waiting for first sync")
            self.set_interval(self.settings.sync_interval, self.action_sync_now)
            if self.session_store is None:
                self.call_after_refresh(self.action_sync_now)
            else:  # a round needs the outbox: it starts when the history has been read
                self._sync_after_history = True

    def _open_initial_session(self) -> None:
        if self.initial_session is None or not self.open_session(self.initial_session):
            self.show_home()

    def on_ready(self) -> None:
        if "debug" in self.features:
            self.log(f"start-up {time.perf_counter() - self._started:.3f}s")
        self.call_after_refresh(self._started_up)
        self.set_interval(IDLE_CHECKPOINT[0], self._checkpoint_when_idle)

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, events.Key | events.MouseDown):
            self._last_input = time.monotonic()
        await super().on_event(event)

    def _checkpoint_when_idle(self) -> None:
        """Write the open session's view between captures, so a restart replays little; never
        while the facilitator is typing (it would delay the next capture on screen)."""
        self._show_store_notices()
        if time.monotonic() - self._last_input < IDLE_CHECKPOINT[1]:
            return
        if self.session_store is not None:
            try:
                self.session_store.checkpoint()
            except RoundtableError as exc:
                self.notify(str(exc), title="Checkpoint failed", severity="error", timeout=10)

    def on_unmount(self) -> None:
        self._collector_back_on()
        self.close_session()

    # -- the open session ------------------------------------------------------------------

    def open_session(self, session_id: str) -> bool:
        """Open a session (taking its lock) and show the screen where its facilitator left off.
        On the event loop: for start-up (the first screen waits for it anyway) and a session
        just created; the sessions list opens one with ``open_session_soon``."""
        try:
            session_id = self.local.resolve_session(session_id)
            if self.session_store is not None and self.session_store.session_id == session_id:
                store = self.session_store
            elif self.local.is_locked(session_id):
                self._ask_passphrase(session_id)
                return False
            else:
                self.close_session()
                store = self.local.open_session(session_id, lazy_history=True)
        except RoundtableError as exc:
            self.notify(str(exc), title="Cannot open session", severity="error", timeout=10)
            return False
        self._opening = None  # a session still opening in a worker is let go when it comes
        self._show_session(store)
        return True

    def open_session_soon(self, session_id: str) -> None:
        """Open a session off the event loop: its view read and its journal replayed (and
        decrypted) in a worker thread, so the list stays responsive, then shown (issue 21).
        An encrypted session asks its passphrase first; the open one is shown at once."""
        try:
            session_id = self.local.resolve_session(session_id)
        except RoundtableError as exc:
            self.notify(str(exc), title="Cannot open session", severity="error", timeout=10)
            return
        if self._opening == session_id:
            return  # asked again while it opens
        current = self.session_store
        if (current is not None and current.session_id == session_id) or self.local.is_locked(
            session_id
        ):
            self.open_session(session_id)
            return
        self.close_session()
        self._opening = session_id
        self._open_in_thread(session_id)

    @work(thread=True, exclusive=True, group="open", exit_on_error=False)
    def _open_in_thread(self, session_id: str) -> None:
        """The blocking part of opening (``LocalStore.open_session``); the store is handed to
        the event loop, which alone uses it from then on."""
        try:
            store = self.local.open_session(session_id, lazy_history=True)
        except RoundtableError as exc:
            self.call_from_thread(self._open_failed, session_id, exc)
            return
        try:
            self.call_from_thread(self._opened, store)
        except BaseException:  # the app is gone (quit while opening): let the session go
            store.close()
            raise

    def _opened(self, store: SessionStore) -> None:
        if self._opening != store.session_id or self.session_store is not None:
            store.close()  # another session was asked for meanwhile
            return
        self._opening = None
        self._show_session(store)

    def _open_failed(self, session_id: str, exc: RoundtableError) -> None:
        if self._opening != session_id:
            return  # another session was asked for, or opened, meanwhile
        self._opening = None
        self.notify(str(exc), title="Cannot open session", severity="error", timeout=10)
        self.show_home()

    def _show_session(self, store: SessionStore) -> None:
        if store is not self.session_store:
            store.subscribe(partial(self._store_changed, store))
        self.session_store = store
        self._show_store_notices()
        if self._first_screen_shown:  # else once it is (``_started_up``): it must not wait
            self._collector_off()
            self._read_history_soon(store)
        session = store.session
        if session.status == "planned" and not session.attendance_confirmed:
            from roundtable.screens.setup import SetupScreen

            self.push_screen(SetupScreen())
        else:
            from roundtable.screens.run import RunScreen

            self.push_screen(RunScreen())

    def _ask_passphrase(self, session_id: str) -> None:
        """An encrypted session: its passphrase first (a modal over whatever is shown)."""
        from roundtable.screens.home import PassphraseModal

        def unlocked(ok: bool | None) -> None:
            if ok:
                self.open_session_soon(session_id)

        self.call_later(self.push_screen, PassphraseModal(session_id), unlocked)

    def _load_history_step(self, store: SessionStore, chain: int) -> None:
        """Read the next slice of the open session's history (see ``HISTORY_STEP``).  A capture
        made before it is all read reads the rest first; damage found on the way is recovered
        by the store and reported as a notice."""
        if chain != self._history_chain:
            return  # a session opened since reads its own history
        if store is not self.session_store or store.closed:
            self._collector_back_on()
            return  # closed before it was all read
        try:
            # the history first (a capture needs it), then the entries the view left unread
            done = store.load_history_step(HISTORY_STEP[0]) and store.read_records(HISTORY_STEP[0])
        except RoundtableError as exc:
            self._collector_back_on()
            self.notify(str(exc), title="Store", severity="error", timeout=10)
            return
        if self._show_store_notices():
            self.session_changed()  # a recovery may have changed the records on screen
        if not done:
            self._read_history_soon(store, chain)
            return
        self._collector_back_on()
        if self._sync_after_history:
            self._sync_after_history = False
            self.action_sync_now()

    def _show_store_notices(self) -> bool:
        """Show the store's one-line notices (brought forward, recovered, not checkpointed)."""
        notices = list(self.local.notices)
        self.local.notices.clear()
        for notice in notices:
            self.notify(notice, title="Store", timeout=15)
        return bool(notices)

    def show_home(self) -> None:
        """Back to the session list: pop to it, or put it under everything if never built."""
        from roundtable.screens.home import HomeScreen

        for n, screen in enumerate(self.screen_stack):
            if isinstance(screen, HomeScreen):
                while len(self.screen_stack) > n + 1:
                    self.pop_screen()
                screen.action_reload()
                return
        if len(self.screen_stack) > 1:
            self.switch_screen(HomeScreen())
        else:
            self.push_screen(HomeScreen())

    def close_session(self) -> None:
        if self.session_store is not None:
            try:
                self.session_store.close()
            finally:
                self.session_store = None

    def _store_changed(self, store: SessionStore, keys: list[tuple[str, str]] | None) -> None:
        """The open session's store wrote a change: screens hear of it once, after the
        handler that wrote it (several writes in one handler make one signal)."""
        if store is not self.session_store:
            return
        if keys is None or self._changed_keys is None:
            self._changed_keys = None
        else:
            self._changed_keys.update(keys)
        if not self._change_posted:
            self._change_posted = True
            self.call_later(self._post_session_changed)

    def _post_session_changed(self) -> None:
        keys, self._changed_keys = self._changed_keys, set()
        self._change_posted = False
        self.session_signal.publish(None if keys is None else frozenset(keys))

    def venue_zone(self) -> str:
        """The open session's venue time zone (its event's ``tz``, issue 24): the app's clock
        and capture times are read in it, not in this laptop's zone.  "" (UTC) when no session
        is open.  Read once per session, again after a pull (``session_changed``)."""
        store = self.session_store
        if store is None or store.closed:
            return ""
        cached = self._venue
        if cached is None or cached[0] != store.session_id:
            try:
                tz = store.event.tz
            except RoundtableError:
                tz = ""
            cached = self._venue = (store.session_id, tz)
        return cached[1]

    def venue_time(self, when: float | None = None) -> str:
        """HH:MM and the zone's abbreviation at the venue, now or at ``when`` (seconds)."""
        import datetime as dt

        from roundtable.zones import VenueClock, abbreviation

        local = VenueClock(self.venue_zone()).local(
            dt.datetime.fromtimestamp(self.clock() if when is None else when, dt.UTC)
        )
        return f"{local:%H:%M} {abbreviation(local)}"

    def session_changed(self) -> None:
        """Tell every screen on the stack that anything of the open session may have changed
        (a pull, a recovery, a screen coming back)."""
        self._venue = None  # a pull may have brought the event's zone
        self._changed_keys = None
        if not self._change_posted:
            self._change_posted = True
            self.call_later(self._post_session_changed)

    def country_names(self) -> dict[str, str]:
        return {code: c.name for code, c in self.roster.items()}

    def save_settings(self, **changes) -> None:
        try:
            self.settings = config.save_settings(**changes)
        except (RoundtableError, OSError) as exc:
            self.notify(f"Settings not saved: {exc}", severity="error")

    # -- actions ---------------------------------------------------------------------------

    def action_help(self) -> None:
        from roundtable.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = "textual-light" if self.theme == "textual-dark" else "textual-dark"
        self.save_settings(theme=self.theme)

    def _sync_configured(self) -> bool:
        try:
            return bool(self.settings.api_url and config.load_token())
        except RoundtableError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return False

    def action_sync_now(self) -> None:
        if not self._sync_configured():
            self.notify(
                "Not connected to the secretariat: run `roundtable connect URL --token TOKEN`.",
                severity="warning",
            )
            return
        self.run_sync()

    @work(exclusive=True, group="sync", exit_on_error=False)
    async def run_sync(self) -> None:
        from roundtable.sync import SyncClient

        self._checkpoint_when_idle()  # the open session is synced from memory; this only
        # shortens a replay after a crash, so it never runs while the facilitator types
        client = SyncClient(
            self.local,
            self.settings.api_url,
            config.load_token(),
            ca_file=self.settings.ca_file or None,
            round_deadline=self.settings.sync_deadline,
            label=self.settings.label or None,  # `roundtable connect --label`, else the token's
        )
        self.set_sync_state("syncing", "syncing…")
        result = await client.sync_once()
        # the open session's count is kept incrementally; counting every unit on this laptop
        # would re-read all their files on the event loop each round
        store = self.session_store
        pending = store.pending_count() if store is not None and not store.closed else 0
        if result.auth_error:
            self.set_sync_state("auth", "auth error")
            self.notify(result.summary(), title="Sync refused", severity="error", timeout=10)
        elif result.error:
            if self._offline_since is None:
                self._offline_since = self.clock()
            since = self.venue_time(self._offline_since)
            self.set_sync_state("offline", f"offline since {since} · {pending} pending")
        else:
            self._offline_since = None
            self._last_sync_ok = self.clock()
            state = "synced" if pending == 0 else "pending"
            self.set_sync_state(state, "synced" if pending == 0 else f"{pending} pending")
        if result.pulled:
            self.session_changed()
        if result.notice:  # an older secretariat: what stays on this laptop, said once
            self.notify(result.notice, title="Sync", severity="warning", timeout=15)
        if result.rejected:
            self.notify(
                f"{result.rejected} changes were rejected by the secretariat; "
                "see `roundtable sync`",
                severity="warning",
            )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A worker that stopped on a user-facing error says so, in one line."""
        error = event.worker.error
        if event.state == WorkerState.ERROR and isinstance(error, RoundtableError):
            self.notify(str(error), severity="error", timeout=10)

    def set_sync_state(self, state: str, label: str) -> None:
        self.sync_state = (state, label)

    # -- command palette -------------------------------------------------------------------

    def projector_command(self) -> str:
        """The command that opens the projector on the open session (or on the one open)."""
        store = self.session_store
        if store is None or store.closed:
            return "roundtable projector"
        return f"roundtable projector {store.session_id[:13]}"

    def action_projector_help(self) -> None:
        """How to open the projector: a second, read-only window (issue 26)."""
        self.notify(
            f"In a second terminal window on the projector's screen, run: "
            f"{self.projector_command()} — it follows this session read-only and shows the "
            "agenda, the times and the list of speakers, never an entry; /project TEXT puts a "
            "TLP:CLEAR message up.",
            title="Projector",
            timeout=20,
        )

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("app: help", "Every key and the capture grammar", self.action_help)
        yield SystemCommand(
            "app: toggle theme", "Light or dark, remembered", self.action_toggle_theme
        )
        yield SystemCommand("sync: now", "Push and pull with the secretariat", self.action_sync_now)
        yield SystemCommand(
            "projector: how to open",
            "Show this session on the room's projector, read-only, from a second window",
            self.action_projector_help,
        )
        commands = getattr(screen, "palette_commands", None)
        if commands is not None:
            for title, help_text, callback in commands():
                yield SystemCommand(title, help_text, callback)
