"""Shared pytest set-up: every test gets its own ROUNDTABLE_HOME, never the user's."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

_HERE = Path(__file__).parent
pytest_plugins = ["fixtures_server"] if (_HERE / "fixtures_server.py").exists() else []
pytest_plugins += ["fixtures_pg"] if (_HERE / "fixtures_pg.py").exists() else []


@pytest.fixture(autouse=True, scope="session")
def _one_default_tls_context():
    """Test-only: every httpx client made with the default verification (``verify=True``, no
    client certificate) shares one verifying SSL context per trust store (certifi's, or the
    SSL_CERT_FILE / SSL_CERT_DIR the environment names) instead of loading the bundle again
    (~25 ms of CPU per client, and the tests make thousands: each top-level ``httpx.get`` or
    ``httpx.post``; the product's sync client already shares its own, ``sync._tls_context``).
    A context is made to be shared; one made from a CA file (the TLS tests) or ``verify=False``
    is never cached, so what verifies stays the same."""
    try:
        from httpx import _config
        from httpx._transports import default
    except ImportError:
        yield
        return
    real = _config.create_ssl_context
    shared: dict[tuple, object] = {}

    def create_ssl_context(verify=True, cert=None, trust_env=True):
        if verify is not True or cert is not None:
            return real(verify=verify, cert=cert, trust_env=trust_env)
        env = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
        key = (trust_env, *(env if trust_env else (None, None)))
        if key not in shared:
            shared[key] = real(verify=verify, cert=cert, trust_env=trust_env)
        return shared[key]

    default.create_ssl_context = create_ssl_context  # type: ignore[assignment]
    yield
    default.create_ssl_context = real


PILOT_IDLE_POLL = 0.004
"""Seconds between two looks of the Pilot's "is the app idle?" wait (Textual's is 0.02)."""


@pytest.fixture(autouse=True, scope="session")
def _pilot_idle_poll():
    """Test-only: Textual's Pilot waits after every key press (twice) and every ``pause()`` until
    the process looks idle, looking every 20 ms: at least 40 ms a key even when the app was done
    at once, ~60 % of a Pilot test's time (`test_room.py`: 871 looks, 18.9 s of 26 s).  The same
    wait looking every 4 ms, with the same rule for "idle" (under 5 % of the interval spent on
    the CPU), waits as long as the app works and no longer.  Nothing of the app changes."""
    try:
        import textual.app
        import textual.pilot
    except ImportError:
        yield
        return
    from asyncio import sleep
    from time import monotonic, process_time

    async def wait_for_idle(min_sleep: float = PILOT_IDLE_POLL, max_sleep: float = 1) -> None:
        start = monotonic()
        while True:
            cpu = process_time()
            await sleep(PILOT_IDLE_POLL)
            elapsed = monotonic() - start
            if elapsed >= max_sleep:
                return
            if elapsed > min_sleep and process_time() - cpu < PILOT_IDLE_POLL / 20:
                return

    real = textual.app.wait_for_idle, textual.pilot.wait_for_idle
    textual.app.wait_for_idle = textual.pilot.wait_for_idle = wait_for_idle  # type: ignore[assignment]
    yield
    textual.app.wait_for_idle, textual.pilot.wait_for_idle = real  # type: ignore[assignment]


TEST_SCRYPT_N = 2**10
"""The scrypt cost of a session a test creates in its own process (production: 2**15)."""


@pytest.fixture(autouse=True)
def _test_scrypt_cost(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Test-only: a session created in a test's own process derives its key at 2**10 instead of
    2**15 (~5 ms instead of ~150 ms; an encrypted test opens its session several times).  The
    tests prove the journal, the seals and the screens, not scrypt's cost.  Nothing an installed
    laptop reads can set it (`test_an_installed_laptop_creates_sessions_at_the_production_cost`,
    marked ``production_scrypt``, runs without it); a session's cost is in its crypto.json, so a
    `roundtable` subprocess opens it at the cost it was made with and creates its own at
    production's.  `make soak` and `make fuzz` (RT_SCALE > 1) run at production's cost."""
    from budget import scale

    if scale() > 1 or request.node.get_closest_marker("production_scrypt"):
        return
    try:
        from roundtable.store import crypto
    except ImportError:
        return
    monkeypatch.setattr(crypto, "SCRYPT_N", TEST_SCRYPT_N)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test may read or write the real home or settings of whoever runs the suite."""
    home = tmp_path_factory.mktemp("rt-home")
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.setenv("ROUNDTABLE_CONFIG", str(home / "settings.toml"))
    for var in ("ROUNDTABLE_API_URL", "ROUNDTABLE_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own for commands run in process, with its settings in it (a module that
    needs another kind of home defines its own ``home``)."""
    home = tmp_path / "home"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    return home


E2E_ENGINES = {"postgresql-2-workers"}
"""Engines whose point is a real external process: ``roundtable serve --workers 2`` (two uvicorn
processes over PostgreSQL).  A test run on one of them is an ``e2e`` test (`make e2e`) wherever
it is parametrized; its SQLite and PostgreSQL cases stay in `make test`."""


@pytest.hookimpl(tryfirst=True)  # before -m selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The multi-worker cases are marked ``e2e`` (see E2E_ENGINES).  Then the long trials
    (marked ``slow``) first, in their own order, then the rest: under pytest-xdist the workers
    start on them together and fill the time after with the short tests, instead of one worker
    running a long trial alone at the end.  Nothing depends on the order: every test sets up
    its own home, server and ports (or its own event on a module's shared server)."""
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if params.get("engine") in E2E_ENGINES:
            item.add_marker(pytest.mark.e2e)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
