"""Shared pytest set-up: every test gets its own ROUNDTABLE_HOME, never the user's."""

from __future__ import annotations

from pathlib import Path

import pytest

_HERE = Path(__file__).parent
pytest_plugins = ["fixtures_server"] if (_HERE / "fixtures_server.py").exists() else []
pytest_plugins += ["fixtures_pg"] if (_HERE / "fixtures_pg.py").exists() else []


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """No test may read or write the real home or settings of whoever runs the suite."""
    home = tmp_path_factory.mktemp("rt-home")
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.setenv("ROUNDTABLE_CONFIG", str(home / "settings.toml"))
    for var in ("ROUNDTABLE_API_URL", "ROUNDTABLE_TOKEN"):
        monkeypatch.delenv(var, raising=False)
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
