"""`roundtable doctor` (issue 27): each check, and each failure it names, on real files and a
real secretariat on 127.0.0.1; the command in process (`cli.main`)."""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import stat
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures_server import LiveServer

from roundtable import cli, config, doctor
from roundtable.doctor import Finding
from roundtable.store import LocalStore

PASS = "correct horse battery staple"
SECRET_TEXT = "Nightjar corridor seizures"
TITLE = "Kestrel round table"


# ---------------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------------


def home() -> Path:
    return config.home_dir()


def by_check(findings: list[Finding]) -> dict[str, Finding]:
    return {f.check: f for f in findings}


def check(name: str, **kw) -> Finding:
    return by_check(doctor.run(**kw))[name]


def run_cli(capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main(["doctor"])
    out = capsys.readouterr()
    assert out.err == ""
    return code, out.out


def make_session(passphrase: str | None = None, entries: int = 3) -> str:
    store = LocalStore(home())
    event = store.create_event("Conference 2026")
    session = store.create_session(
        event.id, "africa", TITLE, [{"title": "Opening", "minutes": 5}], passphrase=passphrase
    )
    with store.open_session(session.id) as ss:
        for n in range(entries):
            ss.add_entry("issue", f"{SECRET_TEXT} {n}", delegations=["GH"])
    store.close()
    return session.id


def journal(session_id: str) -> Path:
    return home() / "sessions" / session_id / "journal.jsonl"


def connect(url: str, token: str) -> None:
    config.save_settings(api_url=url)
    config.save_token(token)


# ---------------------------------------------------------------------------------------------
# A real secretariat on 127.0.0.1, with what other helpers add to it (a token's expiry in
# /v1/whoami, /v1/ready) set per test by a thin ASGI layer in front of the real app
# ---------------------------------------------------------------------------------------------


class Extras:
    """The secretariat's app, with /v1/ready and whoami's ``expires_at`` as a test sets them."""

    def __init__(self, app) -> None:
        self.app = app
        self.ready: tuple[int, dict] | None = None  # None: the app's own answer
        self.expires_at: str | None = None  # None: the app's own answer

    def reset(self) -> None:
        self.ready = None
        self.expires_at = None

    async def __call__(self, scope, receive, send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path == "/v1/ready" and self.ready is not None:
            status, body = self.ready
            await _send_json(send, status, body)
            return
        if scope["type"] == "http" and path == "/v1/whoami" and self.expires_at is not None:
            started: dict = {}
            chunks: list[bytes] = []

            async def capture(message) -> None:
                if message["type"] == "http.response.start":
                    started.update(message)
                else:
                    chunks.append(message.get("body", b""))

            await self.app(scope, receive, capture)
            body = json.loads(b"".join(chunks) or b"{}")
            if started.get("status") == 200:
                body["expires_at"] = self.expires_at
            await _send_json(send, started.get("status", 500), body)
            return
        await self.app(scope, receive, send)


async def _send_json(send, status: int, body: dict) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(payload))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class Secretariat:
    def __init__(self, server: LiveServer, extras: Extras, token: str) -> None:
        self.server = server
        self.extras = extras
        self.token = token

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(scope="module")
def secretariat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Secretariat]:
    import roundtable.secretariat as package

    made: list[Extras] = []
    real = package.create_app

    def wrapped(*args, **kwargs):
        made.append(Extras(real(*args, **kwargs)))
        return made[-1]

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(package, "create_app", wrapped)
        server = LiveServer(tmp_path_factory.mktemp("doctor-server") / "secretariat.db").start()
    try:
        event = server.create_event()
        yield Secretariat(server, made[0], server.token(event))
    finally:
        server.stop()


@pytest.fixture
def live(secretariat: Secretariat) -> Iterator[Secretariat]:
    """The secretariat, this laptop connected to it, the extras back to the app's own."""
    secretariat.extras.reset()
    connect(secretariat.url, secretariat.token)
    yield secretariat
    secretariat.extras.reset()


# ---------------------------------------------------------------------------------------------
# The whole command
# ---------------------------------------------------------------------------------------------


def test_all_well_exit_0_one_line_each_and_a_summary(
    live: Secretariat, capsys: pytest.CaptureFixture[str]
) -> None:
    make_session()
    home().chmod(0o700)
    code, out = run_cli(capsys)
    lines = out.splitlines()
    assert code == 0, out
    assert "FAIL" not in out
    checks = [line.split(":")[0].split(None, 1)[1] for line in lines[:-1]]
    for name in ("python", "home", "settings", "token", "ca file", "secretariat", "ready"):
        assert name in checks, out
    for name in ("clock", "token check", "disk"):
        assert name in checks, out
    assert any(c.startswith("session ") for c in checks), out
    assert lines[-1].startswith("doctor: ") and lines[-1].endswith("all well"), out
    # never a token, never record text
    assert live.token not in out and live.token[:6] not in out
    assert SECRET_TEXT not in out and TITLE not in out


def test_a_failure_exits_1_and_the_summary_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    config.config_file().write_text("theme = 'neon'\n", encoding="utf-8")
    code, out = run_cli(capsys)
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith("FAIL")]
    assert "settings" in line and "theme" in line and "-- fix: " in line
    summary = out.splitlines()[-1]
    assert "1 problem" in summary and summary.endswith(": fix the lines marked FAIL")
    assert "Traceback" not in out


# ---------------------------------------------------------------------------------------------
# Python, terminal
# ---------------------------------------------------------------------------------------------


def test_python_supported_too_old_and_untested() -> None:
    ok = doctor.check_python((3, 12, 4), "CPython", "Windows 11 AMD64")
    assert (ok.status, ok.detail) == ("ok", "CPython 3.12.4 on Windows 11 AMD64")
    old = doctor.check_python((3, 10, 12), "CPython", "Linux")
    assert (
        old.status == "fail" and "needs Python 3.11" in old.detail and "install Python" in old.fix
    )
    new = doctor.check_python((3, 14, 0), "CPython", "Linux")
    assert new.status == "warn" and "3.11-3.13" in new.detail
    pypy = doctor.check_python((3, 11, 9), "PyPy", "Linux")
    assert pypy.status == "warn"
    here = doctor.check_python()
    assert here.status == "ok" and here.detail.startswith("CPython 3.")


def test_terminal_on_windows_asks_for_windows_terminal() -> None:
    classic = doctor.check_terminal("win32", {})
    assert classic.status == "warn" and "Windows Terminal" in classic.fix
    assert doctor.check_terminal("win32", {"WT_SESSION": "x"}).status == "ok"
    assert doctor.check_terminal("linux", {"TERM": "xterm-256color"}).status == "ok"


# ---------------------------------------------------------------------------------------------
# Home
# ---------------------------------------------------------------------------------------------


def test_home_missing_is_fine_and_created_later(tmp_path: Path) -> None:
    finding = doctor.check_home(tmp_path / "new" / "home")
    assert finding.status == "ok" and "not created yet" in finding.detail
    assert not (tmp_path / "new").exists()  # the doctor changes nothing


def test_home_that_is_a_file_or_under_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    a_file = doctor.check_home(tmp_path / "file")
    assert a_file.status == "fail" and "is not a directory" in a_file.detail
    under = doctor.check_home(tmp_path / "file" / "home")
    assert under.status == "fail" and "cannot be created" in under.detail
    assert "ROUNDTABLE_HOME" in under.fix


@pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")
def test_home_permissions(tmp_path: Path) -> None:
    h = tmp_path / "home"
    h.mkdir()
    h.chmod(0o700)
    ok = doctor.check_home(h)
    assert ok.status == "ok" and "private" in ok.detail
    assert list(h.iterdir()) == []  # the write probe is gone
    h.chmod(0o755)
    readable = doctor.check_home(h)
    assert readable.status == "warn" and "mode 755" in readable.detail
    assert readable.fix == f"chmod 700 {h}"
    h.chmod(0o777)
    writable = doctor.check_home(h)
    assert writable.status == "fail" and "may write" in writable.detail


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes through mode bits")
def test_home_not_writable(tmp_path: Path) -> None:
    h = tmp_path / "home"
    h.mkdir()
    h.chmod(0o500)
    try:
        finding = doctor.check_home(h)
    finally:
        h.chmod(0o700)
    assert finding.status == "fail" and "cannot write here" in finding.detail


# ---------------------------------------------------------------------------------------------
# Sessions' stores
# ---------------------------------------------------------------------------------------------


def test_no_sessions_yet() -> None:
    assert check("sessions").detail == "none yet"
    assert not home().exists() or not (home() / "device.json").exists()


def test_a_readable_session_with_changes_not_sent() -> None:
    sid = make_session()
    finding = check(f"session {sid[:8]}")
    assert finding.status == "warn"
    assert "africa, planned" in finding.detail and "checksums good" in finding.detail
    assert "changes not sent" in finding.detail and "roundtable connect" in finding.fix
    assert TITLE not in finding.detail and SECRET_TEXT not in finding.detail


def test_a_damaged_journal_line_is_named_and_nothing_is_changed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sid = make_session(entries=5)
    path = journal(sid)
    lines = path.read_bytes().split(b"\n")
    lines[2] = lines[2].replace(b"GH", b"GX", 1)  # same length: the checksum tells
    damaged = b"\n".join(lines)
    path.write_bytes(damaged)
    before = sorted(p.name for p in path.parent.iterdir())
    code, out = run_cli(capsys)
    assert code == 1
    (line,) = [x for x in out.splitlines() if x.startswith(f"FAIL  session {sid[:8]}")]
    assert "journal line 3: its checksum does not match its content" in line
    assert f"roundtable --session {sid[:8]}" in line and "moved aside" in line
    assert path.read_bytes() == damaged
    assert sorted(p.name for p in path.parent.iterdir()) == before


def test_a_torn_last_line_is_noted_not_failed() -> None:
    sid = make_session()
    with journal(sid).open("ab") as f:
        f.write(b'{"v":2,"t":"change","ops":[')
    finding = check(f"session {sid[:8]}")
    assert finding.status != "fail"
    assert "cut by a crash" in finding.detail


def test_a_damaged_view_fails_with_the_fix() -> None:
    sid = make_session()
    (home() / "sessions" / sid / "view.json").write_text("{not json", encoding="utf-8")
    finding = check(f"session {sid[:8]}")
    assert finding.status == "fail" and "view.json" in finding.detail
    assert f"roundtable --session {sid[:8]}" in finding.fix


def test_a_bad_device_file() -> None:
    make_session()
    (home() / "device.json").write_text("[]", encoding="utf-8")
    finding = check("store")
    assert finding.status == "fail" and "device.json" in finding.detail
    assert "move device.json aside" in finding.fix


def test_a_locked_encrypted_session_with_changes_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sid = make_session(passphrase=PASS)
    monkeypatch.delenv("ROUNDTABLE_PASSPHRASE", raising=False)
    locked = check(f"session {sid[:8]}")
    assert locked.status == "warn" and "encrypted and locked" in locked.detail
    assert "wait for its passphrase" in locked.detail and "checksums good" in locked.detail
    assert "ROUNDTABLE_PASSPHRASE" in locked.fix
    monkeypatch.setenv("ROUNDTABLE_PASSPHRASE", PASS)
    unlocked = check(f"session {sid[:8]}")
    assert "encrypted" in unlocked.detail and "locked" not in unlocked.detail
    monkeypatch.setenv("ROUNDTABLE_PASSPHRASE", "not the passphrase")
    wrong = check(f"session {sid[:8]}")
    assert wrong.status == "fail" and "wrong passphrase" in wrong.detail
    assert "ROUNDTABLE_PASSPHRASE" in wrong.fix


def test_a_damaged_line_of_a_locked_session_is_found_without_its_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sid = make_session(passphrase=PASS)
    monkeypatch.delenv("ROUNDTABLE_PASSPHRASE", raising=False)
    path = journal(sid)
    lines = path.read_bytes().split(b"\n")
    body, _, crc = lines[1].rpartition(b"\t")
    lines[1] = body[:-3] + (b"A" if body[-3:-2] != b"A" else b"B") + body[-2:] + b"\t" + crc
    path.write_bytes(b"\n".join(lines))
    finding = check(f"session {sid[:8]}")
    assert finding.status == "fail" and "journal line 2" in finding.detail


def test_pending_changes_of_a_connected_laptop_wait_for_the_sync(live: Secretariat) -> None:
    sid = make_session()
    finding = check(f"session {sid[:8]}")
    assert finding.status == "ok" and "waiting for the next sync" in finding.detail


# ---------------------------------------------------------------------------------------------
# Settings, token file, CA file
# ---------------------------------------------------------------------------------------------


def test_settings_missing_read_and_refused() -> None:
    assert "none (the defaults)" in check("settings").detail
    config.config_file().write_text('label = "Room B"\n', encoding="utf-8")
    assert check("settings").status == "ok"
    config.config_file().write_text("label = [\n", encoding="utf-8")
    bad = check("settings")
    assert bad.status == "fail" and "not valid TOML" in bad.detail and "move the file" in bad.fix
    config.config_file().write_text("colour = 'red'\n", encoding="utf-8")
    unknown = check("settings")
    assert unknown.status == "fail" and "unknown setting" in unknown.detail


def test_token_none_offline_is_fine() -> None:
    finding = check("token")
    assert finding.status == "ok" and "works offline" in finding.detail


def test_token_missing_while_a_secretariat_is_set() -> None:
    config.save_settings(api_url="http://127.0.0.1:9")
    finding = check("token")
    assert finding.status == "fail" and "no token" in finding.detail
    assert "roundtable connect" in finding.fix


@pytest.mark.skipif(os.name != "posix", reason="POSIX mode bits")
def test_token_readable_by_others() -> None:
    path = config.save_token("tok-abcdefghijklmnop")
    path.chmod(0o644)
    finding = check("token")
    assert finding.status == "fail" and "readable by others" in finding.detail
    assert finding.fix == f"chmod 600 {path}"
    assert "tok-abcdefghijklmnop" not in finding.line()
    path.chmod(0o600)
    private = check("token")
    assert private.status == "ok" and "private" in private.detail


def test_token_file_that_is_not_a_token() -> None:
    path = config.save_token("two words")
    finding = check("token")
    assert finding.status == "fail" and "more than one printable word" in finding.detail
    assert "two words" not in finding.line()
    assert path.exists()


def test_token_from_the_environment_is_never_printed(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ROUNDTABLE_TOKEN", "env-token-0123456789")
    _code, out = run_cli(capsys)
    assert "ROUNDTABLE_TOKEN: present" in out
    assert "env-token" not in out


def _certificate(path: Path, not_after: dt.datetime) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Secretariat test CA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=3650))
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def test_ca_file_none_valid_soon_expired_missing_and_not_pem(tmp_path: Path) -> None:
    assert check("ca file").detail == "none (the system's certificates)"
    now = dt.datetime.now(dt.UTC)
    ca = tmp_path / "ca.pem"
    config.save_settings(ca_file=str(ca))
    missing = check("ca file")
    assert missing.status == "fail" and "cannot read" in missing.detail
    assert "--ca-file" in missing.fix
    ca.write_text("not a certificate\n")
    not_pem = check("ca file")
    assert not_pem.status == "fail" and "not a PEM certificate bundle" in not_pem.detail
    _certificate(ca, now + dt.timedelta(days=400))
    good = check("ca file")
    assert good.status == "ok" and "1 certificates, valid until" in good.detail
    _certificate(ca, now + dt.timedelta(days=5))
    assert check("ca file").status == "warn"
    _certificate(ca, now - dt.timedelta(days=1))
    expired = check("ca file")
    assert expired.status == "fail" and "expired" in expired.detail


# ---------------------------------------------------------------------------------------------
# The secretariat: reachability, readiness, clock, the token's acceptance, ceiling, expiry
# ---------------------------------------------------------------------------------------------


def test_secretariat_reachable(live: Secretariat) -> None:
    finding = check("secretariat")
    assert finding.status == "ok" and f"{live.url}: reachable, protocol" in finding.detail


def test_secretariat_not_connected_is_not_checked() -> None:
    assert check("secretariat").status == "skip"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_secretariat_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    connect(f"http://127.0.0.1:{_closed_port()}", "tok-abcdefghijklmnop")
    found = by_check(doctor.run())
    assert found["secretariat"].status == "fail"
    assert "cannot connect" in found["secretariat"].detail and "network" in found["secretariat"].fix
    for name in ("ready", "clock", "token check"):
        assert found[name].status == "skip"
    code, out = run_cli(capsys)
    assert code == 1 and "tok-abcdefghijklmnop" not in out


def test_secretariat_tls_handshake_refused(live: Secretariat) -> None:
    config.save_settings(api_url=live.url.replace("http://", "https://"))
    finding = check("secretariat")
    assert finding.status == "fail"
    assert "TLS" in finding.detail or "cannot connect" in finding.detail


def test_readiness_not_offered_ready_and_not_ready(live: Secretariat) -> None:
    live.extras.ready = (404, {"detail": "Not Found"})
    absent = check("ready")
    assert absent.status == "ok" and "not offered" in absent.detail
    live.extras.ready = (200, {"status": "ready"})
    assert check("ready") == Finding("ready", "ok", "ready")
    live.extras.ready = (503, {"status": "not ready", "detail": "database unreachable"})
    down = check("ready")
    assert down.status == "fail" and "503" in down.detail and "database unreachable" in down.detail
    assert "tell the secretariat" in down.fix


def test_clock_skew_against_the_secretariat(live: Secretariat) -> None:
    assert check("clock").status == "ok"
    ahead = check("clock", wall=lambda: time.time() + 120)
    assert ahead.status == "fail" and "ahead of" in ahead.detail and "refuses" in ahead.detail
    assert "timedatectl" in ahead.fix and "Sync now" in ahead.fix
    behind = check("clock", wall=lambda: time.time() - 120)
    assert behind.status == "fail" and "behind" in behind.detail
    off = check("clock", wall=lambda: time.time() + 20)
    assert off.status == "warn"


def test_token_accepted_with_its_ceiling(live: Secretariat) -> None:
    finding = check("token check")
    assert finding.status == "ok"
    assert "accepted: regions *" in finding.detail and "TLP:AMBER+STRICT" in finding.detail
    assert live.token not in finding.line()


def test_token_refused_by_the_secretariat(live: Secretariat) -> None:
    config.save_token("tok-not-issued-by-anyone")
    finding = check("token check")
    assert finding.status == "fail" and "refused by the secretariat (401)" in finding.detail
    assert "new token" in finding.fix


def test_token_expiry_reported_by_the_secretariat(live: Secretariat) -> None:
    now = dt.datetime.now(dt.UTC)
    live.extras.expires_at = (now + dt.timedelta(days=10)).isoformat()
    later = check("token check")
    assert later.status == "ok" and "expires " in later.detail
    live.extras.expires_at = (now + dt.timedelta(hours=3)).isoformat()
    soon = check("token check")
    assert soon.status == "warn" and "in 3 h" in soon.detail
    live.extras.expires_at = (now - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    expired = check("token check")
    assert expired.status == "fail" and "expired on" in expired.detail


# ---------------------------------------------------------------------------------------------
# Disk
# ---------------------------------------------------------------------------------------------


def test_free_disk_space(monkeypatch: pytest.MonkeyPatch) -> None:
    assert check("disk").status == "ok"
    monkeypatch.setattr(doctor, "DISK_WARN", 1 << 62)
    assert check("disk").status == "warn"
    monkeypatch.setattr(doctor, "DISK_FAIL", 1 << 61)
    low = check("disk")
    assert low.status == "fail" and "captures may fail to save" in low.detail


def test_the_report_never_holds_the_token_file_content(
    live: Secretariat, capsys: pytest.CaptureFixture[str]
) -> None:
    make_session()
    _code, out = run_cli(capsys)
    token_text = config.token_file().read_text().strip()
    assert token_text and token_text not in out
    assert stat.S_IMODE(config.token_file().stat().st_mode) == 0o600 or os.name != "posix"


def test_home_on_windows_is_not_judged_by_mode_bits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from roundtable import osfiles

    h = tmp_path / "home"
    h.mkdir()
    h.chmod(0o777)
    monkeypatch.setattr(osfiles, "SYSTEM", "win32")
    finding = doctor.check_home(h)
    assert finding.status == "ok" and "user profile" in finding.detail


def test_a_damaged_event_journal_is_named() -> None:
    make_session()
    (event_dir,) = (home() / "events").iterdir()
    path = event_dir / "journal.jsonl"
    data = path.read_bytes()
    path.write_bytes(data.replace(b'"', b"'", 1) + data)  # a bad first line, then good ones
    finding = check("events")
    assert finding.status == "fail" and "journal line 1" in finding.detail
    assert "open one of its sessions" in finding.fix


def test_events_journals_good() -> None:
    make_session()
    finding = check("events")
    assert finding == Finding("events", "ok", "1 on this laptop, journals' checksums good")


def test_a_bad_token_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDTABLE_TOKEN", "two words")
    finding = check("token")
    assert finding.status == "fail" and finding.fix.startswith("unset ROUNDTABLE_TOKEN")
    assert "two words" not in finding.line()


def test_refused_settings_leave_the_secretariat_unchecked() -> None:
    config.config_file().write_text("sync_interval = 1\n", encoding="utf-8")
    found = by_check(doctor.run())
    assert found["settings"].status == "fail" and "sync_interval" in found["settings"].detail
    assert found["secretariat"] == Finding(
        "secretariat", "skip", "not checked: the settings are refused"
    )


def test_a_session_written_by_a_newer_roundtable() -> None:
    from roundtable.model import STORE_SCHEMA
    from roundtable.store.journal import decode_line, encode_line

    sid = make_session()
    path = journal(sid)
    first, rest = path.read_bytes().split(b"\n", 1)
    line = decode_line(first)
    path.write_bytes(encode_line({**line, "v": STORE_SCHEMA + 1}) + rest)
    finding = check(f"session {sid[:8]}")
    assert finding.status == "fail" and "written by a newer roundtable" in finding.detail
    assert "install the roundtable that wrote it" in finding.fix
