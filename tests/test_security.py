"""Security claims, end to end with the real commands and server processes:

* the secretariat binds 127.0.0.1 unless told otherwise, and warns when told otherwise;
* neither a token nor any record text reaches a log: the server's own output (access log on,
  as `roundtable serve` runs it) and the client's log directory, through good and failing syncs
  and a crash report;
* a token file others can read is refused with the fix, and the token is not used;
* the server's minutes and report (HTML) escape every line of the injection corpus.
(Tokens hashed at rest and compared in constant time: tests/test_auth.py.)"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from roundtable.secretariat import create_event, issue_token
from roundtable.store import LocalStore
from roundtable.sync import SyncClient

CORPUS = Path(__file__).with_name("corpus") / "injection.txt"
MARKER = "Zanzibar-7f3c marker of a record text"
AGENDA = [{"title": "Needs", "item_kind": "needs"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


def start_serve(db: Path, port: int, *extra: str, log: Path) -> subprocess.Popen:
    out = log.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "roundtable", "serve", "--db", str(db), "--port", str(port),
         *extra],
        stdout=out,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.05)
        if proc.poll() is not None:
            break
    proc.kill()
    raise AssertionError("roundtable serve did not start: " + log.read_text(errors="replace"))


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs /proc/net/tcp")
def test_serve_binds_loopback_by_default_and_warns_otherwise(tmp_path: Path) -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "roundtable", "serve", "--help"], capture_output=True, text=True
    ).stdout
    assert "default 127.0.0.1" in help_text
    port = free_port()
    proc = start_serve(tmp_path / "a.db", port, log=tmp_path / "a.log")
    try:
        assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1, nothing else
    finally:
        stop(proc)
    port = free_port()
    proc = start_serve(tmp_path / "b.db", port, "--host", "0.0.0.0", log=tmp_path / "b.log")
    try:
        assert listening_addresses(port) == {"00000000"}
    finally:
        stop(proc)
    assert (
        "warning: serving on 0.0.0.0: reachable from other machines"
        in (tmp_path / "b.log").read_text()
    )


def test_no_token_and_no_record_text_in_any_log(tmp_path: Path) -> None:
    db = tmp_path / "secretariat.db"
    event_id = create_event(db, "Conference")
    token = issue_token(db, event_id, ["*"])
    port = free_port()
    server_log = tmp_path / "server.log"
    proc = start_serve(db, port, log=server_log)
    home = tmp_path / "home"
    home.mkdir()
    settings = home / "s.toml"
    settings.write_text("sync_deadline = 60\n", encoding="utf-8")  # a busy machine is not a fault
    env = dict(os.environ, ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(settings))
    url = f"http://127.0.0.1:{port}"
    run = [sys.executable, "-m", "roundtable"]
    try:
        connected = subprocess.run(
            [*run, "connect", url, "--token", token], env=env, capture_output=True, text=True
        )
        assert connected.returncode == 0, connected.stderr
        store = LocalStore(home)
        sid = store.create_session(event_id, "africa", f"Room {MARKER}", AGENDA).id
        added = subprocess.run(
            [*run, "add", sid, f"/need {MARKER} @GH"], env=env, capture_output=True, text=True
        )
        assert added.returncode == 0, added.stderr
        synced = subprocess.run([*run, "sync"], env=env, capture_output=True, text=True)
        assert synced.returncode == 0, synced.stderr
        outputs = connected.stdout + connected.stderr + synced.stdout + synced.stderr
        # a refused token and a server that went away: the failures are reported, not logged
        bad = subprocess.run(
            [*run, "sync"],
            env={**env, "ROUNDTABLE_TOKEN": "W" * 43},
            capture_output=True,
            text=True,
        )
        assert bad.returncode != 0 and "W" * 43 not in bad.stderr
        outputs += bad.stdout + bad.stderr
    finally:
        stop(proc)
    settings.write_text("sync_deadline = 5\n", encoding="utf-8")  # retry the dead server briefly
    gone = subprocess.run([*run, "sync"], env=env, capture_output=True, text=True)
    assert gone.returncode != 0
    outputs += gone.stdout + gone.stderr
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert ss.pending_count() == 0 and MARKER in ss.records("entry")[0].text
    server_text = server_log.read_text(errors="replace")
    assert "GET /v1/whoami" in server_text  # the access log is on: there is something to read
    located = subprocess.run([*run, "locate"], env=env, capture_output=True, text=True).stdout
    log_dir = Path(re.search(r"^logs\t(.+)$", located, re.M).group(1))
    logs = [p for p in log_dir.rglob("*") if p.is_file()] if log_dir.exists() else []
    log_text = "".join(p.read_text(errors="replace") for p in logs)
    for secret in (token, MARKER, "W" * 43):
        assert secret not in server_text, "the server's output"
        assert secret not in log_text, "the client's logs"
        assert secret not in outputs.replace(f"Room {MARKER}", ""), "the commands' output"


def test_token_file_readable_by_others_is_refused(tmp_path: Path, live_server) -> None:
    home = tmp_path / "home"
    env = dict(os.environ, ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(home / "s.toml"))
    env.pop("ROUNDTABLE_TOKEN", None)
    located = subprocess.run(
        [sys.executable, "-m", "roundtable", "locate"], env=env, capture_output=True, text=True
    ).stdout
    match = re.search(r"^token\t(.+)$", located, re.M)
    assert match, located
    token_file = Path(match.group(1))
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text("S" * 43 + "\n", encoding="utf-8")
    (home / "s.toml").write_text(
        f'api_url = "{live_server.url}"\nsync_deadline = 5\n', encoding="utf-8"
    )
    token_file.chmod(0o644)
    out = subprocess.run(
        [sys.executable, "-m", "roundtable", "sync"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 1 and "S" * 43 not in out.stderr
    assert out.stderr.count("\n") == 1 and "Traceback" not in out.stderr
    assert "readable by others (mode 644)" in out.stderr and f"chmod 600 {token_file}" in (
        out.stderr
    )
    # the fix it names works: the token now reaches the server, which never issued it and so
    # refuses it at once (an unreachable server made this wait out the whole sync deadline)
    token_file.chmod(0o600)
    fixed = subprocess.run(
        [sys.executable, "-m", "roundtable", "sync"], env=env, capture_output=True, text=True
    )
    assert "readable by others" not in fixed.stderr and "not accepted" in fixed.stderr
    assert fixed.returncode == 2  # sync's exit status for a refused token (README)


def test_a_crash_report_names_the_code_not_the_data(tmp_path: Path, monkeypatch) -> None:
    from roundtable import cli

    monkeypatch.setenv("ROUNDTABLE_HOME", str(tmp_path / "home"))
    try:
        try:
            raise KeyError(f"token {'T' * 43}")
        except KeyError as inner:
            raise ValueError(f"while saving {MARKER}") from inner
    except ValueError as exc:
        path = cli._log_crash(exc)
    assert path is not None and path.parent.name == "logs"
    text = path.read_text(encoding="utf-8")
    assert "ValueError" in text and "KeyError" in text and "test_security.py" in text
    assert MARKER not in text and "T" * 43 not in text


async def test_server_minutes_and_report_escape_the_injection_corpus(live_server) -> None:
    from roundtable.capture import bad_character

    hostile = [line for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    # control characters are refused by every side now (issue 12): the rest must be escaped
    hostile = [line for line in hostile if bad_character(line) is None]
    assert len(hostile) >= 20
    event_id = live_server.create_event("Conference <script>alert(1)</script>")
    token = live_server.token(event_id)
    store = LocalStore(live_server.db_path.parent / "laptop")
    client = SyncClient(store, live_server.url, token)
    assert (await client.sync_once()).ok
    sid = store.create_session(event_id, "africa", hostile[0][:200], AGENDA).id
    with store.open_session(sid) as ss:
        for n, text in enumerate(hostile):
            kind = ("issue", "need", "action", "decision", "note")[n % 5]
            ss.add_entry(
                kind, text, delegations=["GH"], owner=text[:40] if kind == "action" else ""
            )
    result = await client.sync_once()
    assert result.ok and result.pushed > len(hostile), result.summary()
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=live_server.url, headers=headers) as http:
        pages = [
            (await http.get(f"/v1/sessions/{sid}/minutes", params={"format": "html"})),
            (await http.get(f"/v1/events/{event_id}/report", params={"format": "html"})),
        ]
    for page in pages:
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        lowered = page.text.lower()
        # the report's own chart (issue 23) is its one SVG, with nothing typed as markup in it
        charts = re.findall(r'<svg xmlns="http://www.w3.org/2000/svg" class="chart".*?</svg>',
                            lowered, re.DOTALL)  # fmt: skip
        assert len(charts) <= 1
        for chart in charts:
            assert not re.search(r"<\s*(script|img|iframe|object|embed|a|foreignobject)\b", chart)
            assert not re.search(r"\s(on\w+|href|xlink:href|src)\s*=", chart)
            lowered = lowered.replace(chart, "")
        assert not re.search(r"<\s*(script|img|iframe|svg|object|embed|a)\b", lowered)
        assert not re.search(r"<[^>]*\bon\w+\s*=", lowered)  # no event handler in any tag
        assert not re.search(r"<[a-z]+[^>]*\s(href|src)\s*=", lowered)
    assert "alert(1)" in pages[0].text or "alert(1)" in pages[1].text  # shown, as text
