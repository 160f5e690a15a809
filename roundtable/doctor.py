"""`roundtable doctor`: what is wrong on this laptop, one line a check, each with its fix.

For the IT officer preparing facilitators' laptops and for the facilitator in the room: Python
and platform, the home and its permissions, every session's store (readable, journal checksums,
changes not yet synced, encrypted sessions left locked), the settings file, the token (present,
private, accepted by the secretariat, its ceiling and expiry), the CA file, the secretariat's
reachability and readiness, the clock against the secretariat's, and free disk space.

Nothing is changed (the home's write test removes its probe file; a home with sessions but
no ``device.json`` gets one, as from any command) and nothing secret is
printed: never a token, not even part of one, and never record text (sessions are named by id,
region and status, not by title).  Exit 0 when no check failed, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import stat
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from roundtable import config, osfiles

if TYPE_CHECKING:
    import httpx

    from roundtable.store import LocalStore

Status = Literal["ok", "warn", "fail", "skip"]

SUPPORTED = ((3, 11), (3, 13))
"""The CPython versions roundtable is tested on and the offline bundle holds wheels for."""
DISK_FAIL = 100 * 1024 * 1024
"""Free bytes below which the store may fail to write (a journal append, a checkpoint)."""
DISK_WARN = 1024 * 1024 * 1024
CLOCK_WARN = 5.0
"""Seconds of skew against the secretariat's Date header (itself to the second) worth noting."""
CLOCK_FAIL = 60.0
"""The secretariat refuses changes stamped more than ~60 s in its future (DESIGN.md)."""
TOKEN_SOON = 24 * 3600.0
"""A token that expires within this many seconds is noted (the conference may run past it)."""
CA_SOON = 30 * 24 * 3600.0

_LABEL = {"ok": "ok", "warn": "warn", "fail": "FAIL", "skip": "--"}


@dataclass(frozen=True)
class Finding:
    """One check's outcome: a line of the report."""

    check: str
    status: Status
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{_LABEL[self.status]:<4}  {self.check}: {self.detail}"
        return f"{text} -- fix: {self.fix}" if self.fix else text


# ---------------------------------------------------------------------------------------------
# This machine
# ---------------------------------------------------------------------------------------------


def check_python(
    version: Sequence[int] | None = None,
    implementation: str | None = None,
    system: str | None = None,
) -> Finding:
    version = tuple(version or sys.version_info[:3])
    implementation = implementation or platform.python_implementation()
    where = system or f"{platform.system()} {platform.release()} {platform.machine()}".strip()
    shown = ".".join(map(str, version))
    what = f"{implementation} {shown} on {where}"
    low, high = SUPPORTED
    supported = f"{low[0]}.{low[1]}-{high[0]}.{high[1]}"
    if version[:2] < low:
        return Finding(
            "python",
            "fail",
            f"{what}: roundtable needs Python {low[0]}.{low[1]} or later",
            f"install Python {high[0]}.{high[1]} (python.org, or the Microsoft Store on "
            "Windows) and reinstall roundtable with it",
        )
    if version[:2] > high or implementation != "CPython":
        return Finding(
            "python",
            "warn",
            f"{what}: not one roundtable is tested on (CPython {supported}); the offline "
            "bundle has no wheels for it",
            f"install CPython {high[0]}.{high[1]} if anything misbehaves",
        )
    return Finding("python", "ok", what)


def check_terminal(system: str | None = None, env: dict[str, str] | None = None) -> Finding:
    """On Windows, whether this is Windows Terminal (the classic console draws the app poorly)."""
    system = system or osfiles.SYSTEM
    env = dict(os.environ) if env is None else env
    if system != "win32":
        term = env.get("TERM_PROGRAM") or env.get("TERM") or "unknown"
        return Finding("terminal", "ok", term)
    if env.get("WT_SESSION"):
        return Finding("terminal", "ok", "Windows Terminal")
    return Finding(
        "terminal",
        "warn",
        "not Windows Terminal: the classic console draws the app's lines and colours poorly",
        "install Windows Terminal (Microsoft Store, or `winget install Microsoft.WindowsTerminal`"
        ") and run roundtable in it",
    )


def _existing(path: Path) -> Path:
    """``path`` or its nearest existing parent."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path(path.anchor or ".")


def check_home(home: Path) -> Finding:
    """The home exists (or can be created), is a directory we can write, and is not open to
    other accounts (POSIX mode bits; Windows keeps a user's profile private by default)."""
    if not home.exists():
        parent = _existing(home.parent)
        if not parent.is_dir():
            return Finding(
                "home",
                "fail",
                f"{home}: cannot be created: {parent} is not a directory",
                "set ROUNDTABLE_HOME to a folder of yours, or move that file aside",
            )
        if not os.access(parent, os.W_OK | os.X_OK):
            return Finding(
                "home",
                "fail",
                f"{home}: cannot be created: {parent} is not writable by this account",
                "set ROUNDTABLE_HOME to a folder of yours",
            )
        return Finding("home", "ok", f"{home}: not created yet (created at the first session)")
    if not home.is_dir():
        return Finding(
            "home",
            "fail",
            f"{home}: is not a directory",
            "move that file aside, or set ROUNDTABLE_HOME to a folder of yours",
        )
    probe = home / f".doctor-probe-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        fix = (
            "give your account write access in the folder's Properties > Security"
            if osfiles.is_windows()
            else f"sudo chown -R $(id -un) {home}"
        )
        return Finding("home", "fail", f"{home}: cannot write here: {exc.strerror or exc}", fix)
    if not osfiles.is_windows():
        mode = osfiles.permission_bits(home)
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            return Finding(
                "home",
                "fail",
                f"{home}: other accounts may write here (mode {mode:o})",
                f"chmod 700 {home}",
            )
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            return Finding(
                "home",
                "warn",
                f"{home}: other accounts on this machine may read the sessions (mode {mode:o})",
                f"chmod 700 {home}",
            )
        return Finding("home", "ok", f"{home}: writable, private to this account")
    return Finding("home", "ok", f"{home}: writable (in your user profile)")


def check_disk(home: Path) -> Finding:
    where = _existing(home)
    try:
        free = shutil.disk_usage(where).free
    except OSError as exc:
        return Finding("disk", "fail", f"{where}: cannot read free space: {exc.strerror or exc}")
    shown = f"{free / 1024**3:.1f} GB free" if free >= 1024**3 else f"{free // 1024**2} MB free"
    if free < DISK_FAIL:
        return Finding(
            "disk",
            "fail",
            f"{shown} on the home's drive: captures may fail to save",
            "free some space on that drive (at least 1 GB)",
        )
    if free < DISK_WARN:
        return Finding("disk", "warn", f"{shown} on the home's drive", "free some space (1 GB)")
    return Finding("disk", "ok", f"{shown} on the home's drive")


# ---------------------------------------------------------------------------------------------
# The store
# ---------------------------------------------------------------------------------------------


def _open_fix(session_id: str) -> str:
    return (
        f"open it in the app (`roundtable --session {session_id[:8]}`): the damaged file is "
        "moved aside and what it held before the damage is kept"
    )


def check_sessions(home: Path, connected: bool) -> list[Finding]:
    """One line per session of the home: readable, journal checksums, pending changes, locked."""
    from roundtable.store import LocalStore, StoreError

    if not (home / "sessions").is_dir() and not (home / "device.json").exists():
        return [Finding("sessions", "ok", "none yet")]
    try:
        store = LocalStore(home)
    except StoreError as exc:
        return [Finding("store", "fail", str(exc), "move device.json aside (a new id is made)")]
    passphrase = os.environ.get("ROUNDTABLE_PASSPHRASE")
    if passphrase:
        store.ask_passphrase = lambda _what: passphrase
    out = [_check_events(store)]
    ids = store.session_ids()
    if not ids:
        return [*out, Finding("sessions", "ok", "none yet")]
    try:
        summaries = {s.id: s for s in store.sessions()}
    except StoreError:
        summaries = {}  # an event the list needs is damaged: the events line says which
    return [*out, *(_check_session(store, sid, summaries.get(sid), connected) for sid in ids)]


def _check_events(store: LocalStore) -> Finding:
    """The events' journals (each session belongs to one): checksums, like a session's."""
    from roundtable.store import check_journal

    base = store.home / "events"
    units = sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    for path in units:
        try:
            journal = check_journal(path)
        except OSError as exc:
            return Finding(
                "events", "fail", f"{path}: cannot read the journal: {exc.strerror or exc}"
            )
        if journal.damaged_line:
            return Finding(
                "events",
                "fail",
                f"event {path.name[:8]}: journal line {journal.damaged_line}: {journal.reason}",
                "open one of its sessions in the app: the damaged file is moved aside and "
                "what it held before the damage is kept",
            )
    return Finding("events", "ok", f"{len(units)} on this laptop, journals' checksums good")


def _check_session(store: LocalStore, session_id: str, summary: Any, connected: bool) -> Finding:
    from roundtable.store import StoreError, check_journal

    name = f"session {session_id[:8]}"
    path = store.home / "sessions" / session_id
    try:
        journal = check_journal(path)
    except OSError as exc:
        return Finding(name, "fail", f"{path}: cannot read the journal: {exc.strerror or exc}")
    if journal.damaged_line:
        return Finding(
            name,
            "fail",
            f"journal line {journal.damaged_line}: {journal.reason} "
            f"({journal.lines} good lines before it)",
            _open_fix(session_id),
        )
    notes = [f"journal: {journal.lines} lines, checksums good"]
    if journal.torn_tail:
        notes.append("a last line cut by a crash (ignored; cut at the next write)")
    if journal.unchecked:
        notes.append(f"{journal.unchecked} lines of an older store without checksums")
    locked = store.is_locked(session_id) and not os.environ.get("ROUNDTABLE_PASSPHRASE")
    if locked:
        pending = summary.pending if summary is not None else 0
        about = f"encrypted and locked ({summary.region if summary else 'region unknown'})"
        if pending:
            return Finding(
                name,
                "warn",
                f"{about}; {'; '.join(notes)}; {pending} changes wait for its passphrase "
                "before they can sync",
                f"open it in the app (`roundtable --session {session_id[:8]}`) and give its "
                "passphrase, or set ROUNDTABLE_PASSPHRASE for `roundtable sync`",
            )
        return Finding(name, "ok", f"{about}; {'; '.join(notes)}; nothing waiting to sync")
    try:
        with store.open_session(session_id, read_only=True) as ss:
            session = ss.session
            ss.outbox(limit=1)  # the whole history read: every line's shape, not only the tail
            pending = ss.pending_count()
    except StoreError as exc:
        if type(exc).__name__ == "WrongPassphraseError":
            fix = "check the passphrase in ROUNDTABLE_PASSPHRASE"
        elif "newer roundtable" in str(exc):
            fix = "install the roundtable that wrote it (the secretariat's current bundle)"
        else:
            fix = _open_fix(session_id)
        return Finding(name, "fail", str(exc), fix)
    about = f"{session.region}, {session.status}" + (
        ", encrypted" if summary and summary.encrypted else ""
    )
    if pending and not connected:
        return Finding(
            name,
            "warn",
            f"{about}; {'; '.join(notes)}; {pending} changes not sent to the secretariat",
            "connect this laptop: `roundtable connect URL --token TOKEN`",
        )
    waiting = f"{pending} changes waiting for the next sync" if pending else "all synced"
    return Finding(name, "ok", f"{about}; {'; '.join(notes)}; {waiting}")


# ---------------------------------------------------------------------------------------------
# Settings, token, CA file
# ---------------------------------------------------------------------------------------------


def check_settings() -> tuple[Finding, config.Settings | None]:
    path = config.config_file()
    try:
        settings = config.load_settings()
    except config.ConfigError as exc:
        return (
            Finding(
                "settings",
                "fail",
                str(exc),
                "correct that key (see the README's Settings), or move the file aside to use "
                "the defaults",
            ),
            None,
        )
    if not path.exists():
        return Finding("settings", "ok", f"{path}: none (the defaults)"), settings
    where = f"{path}: read"
    if settings.api_url:
        where += f"; secretariat {settings.api_url}"
    return Finding("settings", "ok", where), settings


def check_token_file(settings: config.Settings | None) -> tuple[Finding, str]:
    """The token's presence and privacy (its acceptance is checked with the secretariat)."""
    path = config.token_file()
    connect = "`roundtable connect URL --token TOKEN` with the token the secretariat issued"
    try:
        token = config.load_token()
    except config.ConfigError as exc:
        message = str(exc)
        if "readable by others" in message:
            return Finding("token", "fail", message.split("; run:")[0], f"chmod 600 {path}"), ""
        if os.environ.get("ROUNDTABLE_TOKEN"):
            fix = "unset ROUNDTABLE_TOKEN, or set it to the token the secretariat issued"
            return Finding("token", "fail", message, fix), ""
        return Finding("token", "fail", message, f"delete it and run {connect}"), ""
    source = "ROUNDTABLE_TOKEN" if os.environ.get("ROUNDTABLE_TOKEN") else str(path)
    if not token:
        if settings is not None and settings.api_url:
            return Finding(
                "token", "fail", f"{path}: no token, yet a secretariat is set", connect
            ), ""
        return Finding("token", "ok", "none: this laptop works offline (not connected)"), ""
    private = "" if source != str(path) or osfiles.is_windows() else ", private"
    return Finding("token", "ok", f"{source}: present{private}"), token


def check_ca_file(settings: config.Settings | None, wall: float) -> tuple[Finding, str | None]:
    """The CA bundle of a private certificate authority: there, PEM, certificates in date.
    Returns the file to verify TLS with (None: the system's certificates)."""
    ca = settings.ca_file if settings is not None else ""
    if not ca:
        return Finding("ca file", "ok", "none (the system's certificates)"), None
    fix = (
        "`roundtable connect URL --token TOKEN --ca-file FILE` with the CA file the "
        "secretariat gave"
    )
    path = Path(ca).expanduser()
    try:
        data = path.read_bytes()
    except OSError as exc:
        return Finding("ca file", "fail", f"{ca}: cannot read: {exc.strerror or exc}", fix), None
    from cryptography import x509

    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        return Finding("ca file", "fail", f"{ca}: not a PEM certificate bundle", fix), None
    now = dt.datetime.fromtimestamp(wall, dt.UTC)
    expired = [c for c in certificates if c.not_valid_after_utc < now]
    if expired:
        when = expired[0].not_valid_after_utc.date().isoformat()
        return (
            Finding(
                "ca file",
                "fail",
                f"{ca}: {len(expired)} of {len(certificates)} certificates expired (on {when})",
                "ask the secretariat for its current CA file, then " + fix,
            ),
            None,
        )
    until = min(c.not_valid_after_utc for c in certificates)
    detail = f"{ca}: {len(certificates)} certificates, valid until {until.date().isoformat()}"
    if (until - now).total_seconds() < CA_SOON:
        return Finding("ca file", "warn", detail, "ask the secretariat for its renewed CA file"), ca
    return Finding("ca file", "ok", detail), ca


# ---------------------------------------------------------------------------------------------
# The secretariat
# ---------------------------------------------------------------------------------------------


def _reason(exc: Exception) -> tuple[str, str]:
    """(what went wrong, the fix) for a request that got no answer."""
    import httpx

    text = str(exc)
    if isinstance(exc, httpx.ConnectTimeout):
        return "no answer within 3 s", "check the network (the room's Wi-Fi) and the URL"
    if isinstance(exc, httpx.TimeoutException):
        return "it stopped answering", "check the network, then try again"
    if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text:
        return (
            "its TLS certificate is not trusted here",
            "`roundtable connect URL --token TOKEN --ca-file FILE` with the secretariat's CA file",
        )
    if "SSL" in text or "TLS" in text or "WRONG_VERSION_NUMBER" in text:
        return (
            "the TLS handshake failed",
            "check the URL (https:// or http://) with the secretariat",
        )
    return (
        f"cannot connect ({type(exc).__name__})",
        "check the network (the room's Wi-Fi) and the secretariat's URL in the settings",
    )


def check_secretariat(
    url: str, token: str, ca_file: str | None, wall: Callable[[], float]
) -> list[Finding]:
    """Reachability (``/v1/health``), readiness (``/v1/ready`` where offered), clock skew (its
    Date header) and the token (``/v1/whoami``): its ceiling and expiry."""
    import ssl

    import httpx

    verify: ssl.SSLContext | bool = True
    if ca_file:
        try:
            verify = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError):
            verify = True  # the CA line already says what is wrong
    options: dict[str, Any] = {
        "base_url": url.rstrip("/"),
        "verify": verify,
        "timeout": httpx.Timeout(5.0, connect=3.0),
    }
    with httpx.Client(**options) as client:
        before = wall()
        try:
            answer = client.get("/v1/health")
        except httpx.HTTPError as exc:
            what, fix = _reason(exc)
            skip = "not checked: the secretariat cannot be reached"
            return [
                Finding("secretariat", "fail", f"{url}: {what}", fix),
                Finding("ready", "skip", skip),
                Finding("clock", "skip", skip),
            ] + ([Finding("token check", "skip", skip)] if token else [])
        after = wall()
        out = [_reachable(url, answer)]
        out.append(_ready(client))
        out.append(_clock(answer, (before + after) / 2))
        if token:
            out.append(_whoami(client, token, wall()))
    return out


def _reachable(url: str, answer: httpx.Response) -> Finding:
    from roundtable.protocol import PROTOCOL_VERSION

    if answer.status_code != 200:
        return Finding(
            "secretariat",
            "fail",
            f"{url}: answered {answer.status_code} to /v1/health: not a roundtable secretariat, "
            "or it is failing",
            "check the URL with the secretariat",
        )
    try:
        theirs = int(answer.json().get("protocol", 0))
    except (ValueError, TypeError, AttributeError):
        theirs = 0
    detail = f"{url}: reachable, protocol {theirs}"
    if 0 < theirs < PROTOCOL_VERSION:
        return Finding(
            "secretariat",
            "warn",
            f"{detail} (this laptop speaks {PROTOCOL_VERSION}): newer fields and values stay on "
            "this laptop",
            "ask the secretariat to upgrade its server",
        )
    return Finding("secretariat", "ok", detail)


def _ready(client: httpx.Client) -> Finding:
    import httpx

    try:
        answer = client.get("/v1/ready")
    except httpx.HTTPError as exc:
        what, fix = _reason(exc)
        return Finding("ready", "fail", f"/v1/ready: {what}", fix)
    if answer.status_code == 404:
        return Finding("ready", "ok", "not offered by this secretariat (it answered /v1/health)")
    if answer.status_code == 200:
        return Finding("ready", "ok", "ready")
    why = ""
    try:
        body = answer.json()
        for key in ("detail", "status", "reason"):
            value = body.get(key) if isinstance(body, dict) else None
            if isinstance(value, str) and value.isprintable():
                why = f": {value[:120]}"
                break
    except ValueError:
        pass
    return Finding(
        "ready",
        "fail",
        f"not ready ({answer.status_code}{why}): changes cannot be stored there now",
        "tell the secretariat; captures stay safe on this laptop and sync later",
    )


def _clock(answer: httpx.Response, local: float) -> Finding:
    from email.utils import parsedate_to_datetime

    header = answer.headers.get("date")
    if not header:
        return Finding("clock", "skip", "the secretariat sends no Date header")
    try:
        server = parsedate_to_datetime(header).timestamp() + 0.5  # the header is to the second
    except (TypeError, ValueError):
        return Finding("clock", "skip", "the secretariat's Date header cannot be read")
    skew = local - server
    way = "ahead of" if skew > 0 else "behind"
    detail = f"{abs(skew):.0f} s {way} the secretariat"
    fix = (
        "set the clock from the network: Windows, Settings > Time & language > Sync now; "
        "macOS, System Settings > General > Date & Time; Linux, `timedatectl set-ntp true`"
    )
    if abs(skew) > CLOCK_FAIL:
        consequence = (
            "the secretariat refuses changes stamped in its future"
            if skew > 0
            else "item clocks and times in the minutes are off"
        )
        return Finding("clock", "fail", f"{detail}: {consequence}", fix)
    if abs(skew) > CLOCK_WARN:
        return Finding("clock", "warn", detail, fix)
    return Finding("clock", "ok", f"within {CLOCK_WARN:.0f} s of the secretariat")


def _whoami(client: httpx.Client, token: str, now: float) -> Finding:
    import httpx

    connect = "ask the secretariat for a new token, then `roundtable connect URL --token TOKEN`"
    try:
        answer = client.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    except httpx.HTTPError as exc:
        what, fix = _reason(exc)
        return Finding("token check", "fail", f"/v1/whoami: {what}", fix)
    if answer.status_code == 401:
        return Finding("token check", "fail", "refused by the secretariat (401)", connect)
    if answer.status_code != 200:
        return Finding("token check", "fail", f"/v1/whoami answered {answer.status_code}", connect)
    try:
        who = answer.json()
        regions = ", ".join(str(r) for r in who.get("regions", [])) or "none"
        ceiling = str(who.get("max_tlp", "amber+strict")).upper()
        expires = who.get("expires_at")
    except (ValueError, AttributeError):
        return Finding("token check", "fail", "/v1/whoami answered something unreadable", connect)
    detail = f"accepted: regions {regions}; reads up to TLP:{ceiling}"
    if not expires:
        return Finding("token check", "ok", detail + "; no expiry")
    try:
        when = dt.datetime.fromisoformat(str(expires))
    except ValueError:
        return Finding("token check", "ok", detail + "; its expiry cannot be read")
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    left = when.timestamp() - now
    shown = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if left <= 0:
        return Finding("token check", "fail", f"expired on {shown}", connect)
    if left < TOKEN_SOON:
        return Finding(
            "token check", "warn", f"{detail}; expires {shown} (in {left / 3600:.0f} h)", connect
        )
    return Finding("token check", "ok", f"{detail}; expires {shown}")


# ---------------------------------------------------------------------------------------------
# All of it
# ---------------------------------------------------------------------------------------------


def run(wall: Callable[[], float] = time.time) -> list[Finding]:
    """Every check, in the order the report prints them.  ``wall`` is the laptop's clock."""
    home = config.home_dir()
    findings = [check_python(), check_terminal(), check_home(home)]
    settings_line, settings = check_settings()
    token_line, token = check_token_file(settings)
    url = settings.api_url if settings is not None else ""
    findings.extend(check_sessions(home, connected=bool(url and token)))
    findings.append(settings_line)
    findings.append(token_line)
    ca_line, ca_file = check_ca_file(settings, wall())
    findings.append(ca_line)
    if url:
        findings.extend(check_secretariat(url, token, ca_file, wall))
    elif settings is None:
        findings.append(Finding("secretariat", "skip", "not checked: the settings are refused"))
    else:
        findings.append(Finding("secretariat", "skip", "not connected (no secretariat set)"))
    findings.append(check_disk(home))
    return findings


def summary(findings: Sequence[Finding]) -> str:
    counts = {s: sum(1 for f in findings if f.status == s) for s in ("ok", "warn", "fail", "skip")}
    parts = [f"{counts['ok']} ok"]
    if counts["warn"]:
        parts.append(f"{counts['warn']} warning{'s' if counts['warn'] != 1 else ''}")
    if counts["fail"]:
        parts.append(f"{counts['fail']} problem{'s' if counts['fail'] != 1 else ''}")
    if counts["skip"]:
        parts.append(f"{counts['skip']} not checked")
    verdict = "fix the lines marked FAIL" if counts["fail"] else "all well"
    return f"doctor: {len(findings)} checks: {', '.join(parts)}: {verdict}"


def main(wall: Callable[[], float] = time.time) -> int:
    findings = run(wall)
    for finding in findings:
        print(finding.line())
    print(summary(findings))
    return 1 if any(f.status == "fail" for f in findings) else 0
