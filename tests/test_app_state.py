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
