"""The laptop's side of a deployed secretariat (issue 25, finding 5), against a real uvicorn on
127.0.0.1 serving TLS with a certificate from a private CA made here:

* a certificate that does not verify fails at once (no retry: a retry cannot fix it) with the
  ``--ca-file`` hint, and connects with the CA file;
* ``http://`` to the TLS port is named as such, with the ``https://`` address to use;
* ``roundtable sync`` exits 4 when it sent all it could but a locked encrypted session still
  holds changes, and names that session.
(nginx's own answer to plain HTTP on its TLS port: tests/test_deploy_nginx.py, e2e.)"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures_server import LiveServer
from tlsca import make_ca

from roundtable import cli
from roundtable.secretariat import create_app, create_event, issue_token
from roundtable.store import LocalStore
from roundtable.sync import SyncClient, SyncError

AGENDA = [{"title": "Needs", "item_kind": "needs"}]
PASS = "correct horse battery staple"


class TlsServer:
    def __init__(self, where: Path) -> None:
        self.ca_file, chain, key, _ = make_ca(where)
        db = where / "secretariat.db"
        self.event_id = create_event(db, "Conference")
        self.token = issue_token(db, self.event_id, ["*"], label="Room B laptop")
        import uvicorn

        config = uvicorn.Config(
            create_app(db),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            access_log=False,
            ssl_certfile=str(chain),
            ssl_keyfile=str(key),
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive() and time.monotonic() < deadline
            time.sleep(0.01)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsServer]:
    server = TlsServer(tmp_path_factory.mktemp("tls"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ROUNDTABLE_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("ROUNDTABLE_CONFIG", str(tmp_path / "home" / "settings.toml"))
    monkeypatch.delenv("ROUNDTABLE_PASSPHRASE", raising=False)
    monkeypatch.delenv("ROUNDTABLE_API_URL", raising=False)
    monkeypatch.delenv("ROUNDTABLE_TOKEN", raising=False)
    (tmp_path / "home").mkdir(mode=0o700)  # a home roundtable made is private (issue 19)
    return tmp_path / "home"


def client(home: Path, url: str, token: str, sleeps: list[float], **kw) -> SyncClient:
    async def sleep(delay: float) -> None:
        sleeps.append(delay)

    return SyncClient(LocalStore(home), url, token, sleep=sleep, round_deadline=60, **kw)


def test_an_untrusted_certificate_fails_at_once_with_the_ca_file_hint(tls, home) -> None:
    url = f"https://localhost:{tls.port}"
    sleeps: list[float] = []
    with pytest.raises(SyncError) as raised:
        asyncio.run(client(home, url, tls.token, sleeps).whoami())
    line = str(raised.value)
    assert sleeps == []  # not retried
    assert "certificate is not trusted" in line and "--ca-file" in line
    assert "\n" not in line and tls.token not in line
    # with the CA file it verifies
    who = asyncio.run(client(home, url, tls.token, [], ca_file=str(tls.ca_file)).whoami())
    assert who["event_id"] == tls.event_id


def test_connect_without_the_ca_is_one_line_naming_ca_file(tls, home, capsys) -> None:
    code = cli.main(["connect", f"https://localhost:{tls.port}", "--token", tls.token])
    err = capsys.readouterr().err
    assert code != 0 and "--ca-file" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    code = cli.main(
        ["connect", f"https://localhost:{tls.port}", "--token", tls.token,
         "--ca-file", str(tls.ca_file)]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err


def test_a_ca_file_that_did_not_sign_the_certificate_is_named(tls, home, tmp_path) -> None:
    other, *_ = make_ca(tmp_path)
    sleeps: list[float] = []
    url = f"https://localhost:{tls.port}"
    with pytest.raises(SyncError, match="did not verify it") as raised:
        asyncio.run(client(home, url, tls.token, sleeps, ca_file=str(other)).whoami())
    assert str(other) in str(raised.value) and sleeps == []


def test_plain_http_to_the_tls_port_is_named_as_such(tls, home, capsys) -> None:
    url = f"http://localhost:{tls.port}"
    sleeps: list[float] = []
    with pytest.raises(SyncError) as raised:
        asyncio.run(client(home, url, tls.token, sleeps, detect_tls_port=True).whoami())
    assert str(raised.value) == (
        f"{url}: this port speaks TLS (https), not plain HTTP; use https://localhost:{tls.port}"
    )
    assert sleeps == []
    code = cli.main(["connect", url, "--token", tls.token])
    err = capsys.readouterr().err
    assert code != 0 and f"use https://localhost:{tls.port}" in err


def test_sync_exits_4_naming_a_locked_encrypted_session_with_changes(
    live_server: LiveServer, home: Path, capsys
) -> None:
    event_id = live_server.create_event("Conference")
    token = live_server.token(event_id)
    assert cli.main(["connect", live_server.url, "--token", token]) == 0  # the event comes
    store = LocalStore(home)
    plain = store.create_session(event_id, "africa", "Room A", AGENDA).id
    sealed = store.create_session(event_id, "europe", "Room E", AGENDA, passphrase=PASS).id
    with store.open_session(plain) as ss:
        ss.add_entry("need", "Training on container profiling", delegations=["GH"])
    with store.open_session(sealed) as ss:
        ss.add_entry("need", "Database access", delegations=["FR"])
    store.close()
    capsys.readouterr()
    assert cli.main(["sync", "--quiet"]) == 4
    err = capsys.readouterr().err
    assert sealed in err and "locked" in err and "ROUNDTABLE_PASSPHRASE" in err
    assert plain not in err
    sent = live_server.query("SELECT DISTINCT session_id FROM ops WHERE session_id != ''")
    assert sent == [(plain,)]  # the plain session went; the locked one waits
    assert cli.main(["sync", "--quiet"]) == 4  # and again, while it stays locked
    assert sealed in capsys.readouterr().err
    # opened with its passphrase, everything goes and the sync is complete
    import os

    os.environ["ROUNDTABLE_PASSPHRASE"] = PASS
    try:
        assert cli.main(["sync", "--quiet"]) == 0, capsys.readouterr().err
    finally:
        del os.environ["ROUNDTABLE_PASSPHRASE"]
    sent = live_server.query("SELECT DISTINCT session_id FROM ops WHERE session_id != ''")
    assert sorted(sent) == sorted([(plain,), (sealed,)])
