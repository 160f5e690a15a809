"""Issue 21 in the app: a session opens off the event loop, and the app's state flows one way
(the store's change and the sync state are the app's reactives; screens and the status line
are bound to them, nothing polls)."""

from __future__ import annotations

from pathlib import Path

from _app import demo_home, make_app

from roundtable.store import LocalStore


async def test_a_session_opens_off_the_event_loop_and_the_list_stays_responsive(
    tmp_path: Path,
) -> None:
    """Opening a session from the list reads (and decrypts, replays) its store in a worker
    thread.  Here this process's sync holds the session for a moment (a push of its outbox):
    the open waits for it, and meanwhile the list shows it is loading and answers keys.  Before,
    the open waited on the event loop: no key was handled, and the wait ended in a refusal."""
    from roundtable.screens.home import HomeScreen
    from roundtable.screens.run import RunScreen
    from widgets import EntryTable

    home, sid = demo_home(tmp_path)
    (summary,) = LocalStore(home).sessions()
    app = make_app(home, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, HomeScreen)
        (outbox,) = [o for o in app.local.outboxes(summary.event_id) if o.session_id == sid]
        try:
            assert outbox.pending()  # the "push" holds the session's unit now
            table = app.screen.query_one("#sessions")
            table.focus()
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, HomeScreen) and table.loading
            assert app.session_store is None
            await pilot.press("z")  # typed while it opens: the list's filter takes it
            await pilot.pause()
            assert app.screen.query_one("#sessions-filter").value == "z"
        finally:
            outbox.close()  # the push lets go
        await app.workers.wait_for_complete()
        await pilot.pause()
        store = app.session_store
        assert store is not None and store.session_id == sid
        assert isinstance(app.screen, RunScreen)  # the demo session is under way
        assert app.screen.query_one(EntryTable).row_count > 0  # its entries are shown


async def test_the_status_lines_show_the_sync_state_they_are_told(tmp_path: Path) -> None:
    """The sync state is the app's reactive; every status line watches it, the one on a
    screen under another too (the app no longer walks the screen stack to refresh them)."""
    from roundtable.screens.common import StatusLine
    from roundtable.screens.run import RunScreen
    from roundtable.screens.tour import TourScreen
    from widgets import SyncBadge

    home, sid = demo_home(tmp_path)
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        run = app.screen
        assert isinstance(run, RunScreen)
        assert "sync: not connected" in str(run.query_one(SyncBadge).render())
        await pilot.press("escape", "t")  # the tour screen, over the run screen
        await pilot.pause()
        assert isinstance(app.screen, TourScreen)
        app.set_sync_state("offline", "offline since 09:20 CET · 3 pending")
        await pilot.pause()
        for screen in (app.screen, run):
            badge = screen.query_one(StatusLine).query_one(SyncBadge)
            assert str(badge.render()) == "sync: offline since 09:20 CET · 3 pending"
            assert badge.has_class("-offline") and not badge.has_class("-off")


async def test_the_status_line_shows_a_change_of_the_session_when_it_is_made(
    tmp_path: Path,
) -> None:
    """A change of the session's fields reaches the status line through the session signal:
    on the tour screen (whose own refresh never redrew the status line) the new room shows
    after the change, not at the next poll a second later."""
    from roundtable.screens.common import StatusLine
    from roundtable.screens.tour import TourScreen

    home, sid = demo_home(tmp_path)
    app = make_app(home, sid)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("escape", "t")
        await pilot.pause()
        assert isinstance(app.screen, TourScreen)
        line = app.screen.query_one(StatusLine).query_one(".status-session")
        assert "Salle Rhône B" not in str(line.render())
        store = app.session_store
        assert store is not None
        store.update("session", sid, room="Salle Rhône B")
        await pilot.pause()
        assert "Salle Rhône B" in str(line.render())


async def test_a_session_asked_for_twice_while_it_opens_opens_once(tmp_path: Path) -> None:
    """A second Enter on the session that is still opening is not a second open (which found
    the session already open in this roundtable, said so and went back to the list)."""
    from roundtable.screens.run import RunScreen

    home, sid = demo_home(tmp_path)
    (summary,) = LocalStore(home).sessions()
    app = make_app(home, None)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        (outbox,) = [o for o in app.local.outboxes(summary.event_id) if o.session_id == sid]
        try:
            assert outbox.pending()
            app.open_session_soon(sid)
            app.open_session_soon(sid)
            await pilot.pause()
        finally:
            outbox.close()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, RunScreen) and app.session_store is not None
        assert not [n for n in app._notifications if "Cannot open" in (n.title or "")]
