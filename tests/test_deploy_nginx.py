"""The deployment of docs/deploy/, for real: Debian's nginx runs the site file
``docs/deploy/nginx-roundtable.conf`` (its ports, name and certificate paths swapped for this
test's) with a certificate from a private CA made here, in front of ``roundtable serve`` started
with the options of ``docs/deploy/roundtable.service``'s ExecStart.  A laptop connects and syncs
through it with ``--ca-file``; Chromium signs in to the console through it (nginx sends
``Host $host``, without the port: before issue 25 every sign-in got 403).

nginx runs unprivileged-port, with its own prefix and configuration in a temporary directory.
Chromium on Linux reads CAs from an NSS database (certutil is not installed here), so it is
told to accept exactly this server's key (``--ignore-certificate-errors-spki-list``); the
laptop verifies the chain against the CA file like a deployed one does."""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from _cli import rt
from tlsca import make_ca

from roundtable.secretariat import create_event, issue_token
from roundtable.secretariat.deps import SESSION_COOKIE
from roundtable.store import LocalStore

pytestmark = pytest.mark.e2e

DEPLOY = Path(__file__).resolve().parent.parent / "docs" / "deploy"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
AGENDA = [{"title": "Needs", "item_kind": "needs"}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, what: str, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"{what} did not start: {log.read_text(errors='replace')[-2000:]}")


def serve_args(db: Path, port: int, debug_log: Path) -> list[str]:
    """The unit file's ExecStart with this test's database, port and files (and one worker:
    the test runs SQLite; the unit's PostgreSQL URL and workers are the README's case)."""
    unit = (DEPLOY / "roundtable.service").read_text()
    line = next(x for x in unit.splitlines() if x.startswith("ExecStart="))
    argv = shlex.split(line.removeprefix("ExecStart="))
    args = argv[argv.index("serve") + 1 :]
    swap = {
        "--db": str(db),
        "--port": str(port),
        "--workers": "1",
        "--debug-log": str(debug_log),
    }
    out = []
    it = iter(args)
    for arg in it:
        value = next(it)
        assert arg.startswith("--"), line
        out += [arg, swap.get(arg, value)]
    for needed in ("--forwarded-allow-ips", "--debug-log"):
        assert needed in out, f"the unit no longer sets {needed}"
    return out


def nginx_conf(prefix: Path, upstream: int, http: int, https: int, chain: Path, key: Path) -> Path:
    site = (DEPLOY / "nginx-roundtable.conf").read_text()
    swaps = {
        "server 127.0.0.1:8765;": f"server 127.0.0.1:{upstream};",
        "listen 80;": f"listen 127.0.0.1:{http};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https} ssl;",
        "server_name rt.example.org;": "server_name localhost;",
        "/etc/roundtable/tls/fullchain.pem": str(chain),
        "/etc/roundtable/tls/privkey.pem": str(key),
        "/var/log/nginx/roundtable.access.log": str(prefix / "access.log"),
    }
    for old, new in swaps.items():
        assert old in site, f"the site file no longer has {old!r}"
        site = site.replace(old, new)
    (prefix / "roundtable.conf").write_text(site)
    temp = "\n".join(
        f"    {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = prefix / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {prefix / 'nginx.pid'};\n"
        f"error_log {prefix / 'error.log'} warn;\nevents {{ worker_connections 256; }}\n"
        f"http {{\n{temp}\n    access_log off;\n    include {prefix / 'roundtable.conf'};\n}}\n"
    )
    return conf


@dataclass
class Deployment:
    https: str
    http: str
    ca_file: Path
    spki: str
    db: Path
    event_id: str
    token: str
    serve_log: Path
    debug_log: Path


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    if not Path(NGINX).is_file():
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    where = tmp_path_factory.mktemp("deploy")
    ca_file, chain, key, spki = make_ca(where)
    db = where / "secretariat.db"
    event_id = create_event(db, "Heads of Bureau Conference 2026", ends="2999-12-31")
    token = issue_token(db, event_id, ["*"], label="Secretariat desk")
    upstream, http, https = free_port(), free_port(), free_port()
    serve_log, debug_log = where / "serve.log", where / "debug.log"
    server = subprocess.Popen(
        [sys.executable, "-m", "roundtable", "serve", *serve_args(db, upstream, debug_log)],
        stdout=serve_log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    nginx_log = where / "nginx.out"
    proxy = None
    try:
        wait_port(upstream, server, "roundtable serve", serve_log)
        conf = nginx_conf(where, upstream, http, https, chain, key)
        proxy = subprocess.Popen(
            [NGINX, "-p", str(where), "-c", str(conf), "-e", str(where / "error.log")],
            stdout=nginx_log.open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_port(https, proxy, "nginx", nginx_log)
        yield Deployment(
            f"https://localhost:{https}",
            f"http://localhost:{http}",
            ca_file,
            spki,
            db,
            event_id,
            token,
            serve_log,
            debug_log,
        )
    finally:
        for proc in (proxy, server):
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()


def test_plain_http_is_sent_to_https(deployment: Deployment) -> None:
    answer = httpx.get(f"{deployment.http}/v1/health", timeout=10)
    assert answer.status_code == 301
    assert answer.headers["location"].startswith("https://localhost")
    verify = ssl.create_default_context(cafile=str(deployment.ca_file))
    health = httpx.get(f"{deployment.https}/v1/health", verify=verify)
    assert health.json()["status"] == "ok"


def test_a_laptop_connects_and_syncs_through_nginx_with_its_ca_file(
    deployment: Deployment, tmp_path: Path
) -> None:
    home = tmp_path / "laptop"
    home.mkdir()
    (home / "settings.toml").write_text("sync_deadline = 60\n")
    connected = rt(
        "connect",
        deployment.https,
        "--token",
        deployment.token,
        "--ca-file",
        str(deployment.ca_file),
        home=home,
    )
    assert connected.returncode == 0, connected.stderr
    sid = LocalStore(home).create_session(deployment.event_id, "africa", "Room B", AGENDA).id
    added = rt("add", sid, "/need Training on container profiling @GH", home=home)
    assert added.returncode == 0, added.stderr
    synced = rt("sync", "--quiet", home=home)
    assert synced.returncode == 0, synced.stderr
    with sqlite3.connect(deployment.db) as conn:
        texts = [
            r[0]
            for r in conn.execute(
                "SELECT value FROM ops WHERE session_id = ? AND field = 'text'", (sid,)
            )
        ]
    assert any("Training on container profiling" in t for t in texts)
    log = deployment.serve_log.read_text()
    # one line per request, through the proxy, with the token's label and never the token
    assert "POST /v1/events/" in log and 'token="Secretariat desk"' in log
    assert deployment.token not in log


def test_chromium_signs_in_to_the_console_through_nginx(deployment: Deployment) -> None:
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    from test_console_browser import _chromium

    executable = _chromium()
    with sync_api.sync_playwright() as p:
        try:
            browser = p.chromium.launch(
                executable_path=executable,
                args=["--no-sandbox", f"--ignore-certificate-errors-spki-list={deployment.spki}"],
            )
        except Exception as exc:
            pytest.skip(f"chromium could not be started: {str(exc).splitlines()[0]}")
        try:
            context = browser.new_context()
            page = context.new_page()
            page.goto(f"{deployment.https}/")
            assert page.url == f"{deployment.https}/sign-in"
            page.fill("#token", deployment.token)
            page.click("form[action='/sign-in'] button[type=submit]")
            page.wait_for_url(f"{deployment.https}/")
            assert page.locator("h1").inner_text() == "Heads of Bureau Conference 2026"
            cookie = {c["name"]: c for c in context.cookies()}[SESSION_COOKIE]
            assert cookie["secure"] and cookie["httpOnly"]
            page.click("form[action='/sign-out'] button[type=submit]")
            page.wait_for_url(f"{deployment.https}/sign-in")
        finally:
            browser.close()


def test_a_laptop_without_the_ca_or_with_plain_http_is_told_what_to_do(
    deployment: Deployment, tmp_path: Path
) -> None:
    home = tmp_path / "laptop"
    home.mkdir()
    no_ca = rt("connect", deployment.https, "--token", deployment.token, home=home)
    assert no_ca.returncode != 0 and "--ca-file" in no_ca.stderr
    assert "Traceback" not in no_ca.stderr and deployment.token not in no_ca.stderr
    plain_url = deployment.https.replace("https://", "http://")
    plain = rt("connect", plain_url, "--token", deployment.token, home=home)
    assert plain.returncode != 0
    assert f"use {deployment.https}" in plain.stderr, plain.stderr  # not "HTTP 400"
    # (that neither is retried: tests/test_sync_tls.py, with the client's sleeps recorded)
