"""SyncClient: push the outbox to the secretariat and pull what others wrote.  No UI.

* Push: the outbox of every unit of the token's event, in batches.  A batch's Idempotency-Key
  is derived from its op ids, so the same batch retried (now or in a later round) carries the
  same key and the server replays its stored answer.  Ops are marked acknowledged only after
  the server's answer.  A batch refused with a 4xx (other than 401, 408, 425, 429) goes to the
  persisted rejected list (``sync-rejected.json`` in the home) with the server's reason; those
  ops stay in the journal, are skipped by later pushes and never block the rest.
* Pull: pages of ops since the event's cursor; the cursor is saved in ``sync.json`` after each
  page is applied (re-applying a page is harmless: ops are applied by id).
* Protocol: every request names the version this laptop speaks (``?protocol=``); a secretariat
  answers in it, or in its own older one.  An answer naming a newer protocol stops the round
  with a SyncError before anything of it is used; a push the server refuses for its protocol
  stops the round too, and its ops stay pending (not in the rejected list).  With an older
  secretariat the round goes on in its version: the ops of fields or values it does not know
  (``protocol.FIELDS_SINCE``, ``protocol.VALUES_SINCE``) stay in the journal, pending, never
  rejected or dropped, and the laptop says so once (``SyncResult.notice``, remembered in
  ``sync.json``).
* Network: explicit timeouts; transport errors and 408/425/429/5xx are retried with full-jitter
  exponential backoff that honours Retry-After, within the round's deadline.  TLS is always
  verified.  The token is never logged or put in a message.
"""

from __future__ import annotations

import asyncio
import email.utils
import functools
import hashlib
import json
import random
import ssl
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from roundtable import protocol
from roundtable.errors import RoundtableError
from roundtable.model import Op
from roundtable.store import LocalStore, StoreError

if TYPE_CHECKING:
    import httpx

RETRYABLE_STATUS = frozenset({408, 425, 429})


def _plain_errors() -> tuple[type[Exception], ...]:
    import httpx

    return (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


REGION_WINDOW = 64  # ops read past a push batch, so that a session's region op goes first
SYNC_FILE = "sync.json"
REJECTED_FILE = "sync-rejected.json"

Progress = Callable[[int, int, str], None]


class SyncError(RoundtableError):
    """A sync that could not be done; the message is one line, without the token."""


class _AuthError(SyncError):
    pass


@dataclass
class SyncResult:
    pushed: int = 0
    pulled: int = 0
    rejected: int = 0
    duplicates: int = 0
    error: str | None = None
    auth_error: bool = False
    rejected_total: int = 0
    skipped: list[str] = field(default_factory=list)  # units open in another roundtable
    rejections: list[str] = field(default_factory=list)  # one line per batch refused this round
    held: list[str] = field(default_factory=list)  # encrypted sessions, locked, with changes
    kept_local: int = 0  # ops of fields an older secretariat does not know, kept here
    notice: str | None = None  # said once per secretariat: what stays on this laptop, and why

    @property
    def ok(self) -> bool:
        return self.error is None and not self.auth_error

    def summary(self) -> str:
        parts = [f"pushed {self.pushed}", f"pulled {self.pulled}"]
        if self.duplicates:
            parts.append(f"{self.duplicates} already on the server")
        if self.rejected:
            parts.append(f"{self.rejected} rejected")
        line = "sync: " + ", ".join(parts)
        if self.notice:
            line += f"; {self.notice}"
        if self.rejected_total:
            line += f" ({self.rejected_total} changes in the rejected list: {REJECTED_FILE})"
        if self.auth_error:
            return f"sync refused: {self.error or 'the token was not accepted'}"
        if self.error:
            return f"{line}; stopped: {self.error}"
        if self.held:
            names = ", ".join(self.held[:5]) + (" ..." if len(self.held) > 5 else "")
            line += (
                f"; not sent: {len(self.held)} encrypted session{'s' if len(self.held) > 1 else ''}"
                f" locked with changes ({names}): set ROUNDTABLE_PASSPHRASE or open "
                "it with its passphrase, then sync again"
            )
        return line

    @property
    def exit_code(self) -> int:
        """The command's exit status: 0 all done, 1 stopped (network, server, store), 2 token
        refused, 3 some changes rejected by the secretariat (named in ``rejections``), 4 all
        that could be sent was, but a locked encrypted session still holds changes (``held``)."""
        if self.auth_error:
            return 2
        if self.error:
            return 1
        if self.rejected:
            return 3
        if self.held:
            return 4
        return 0


# ---------------------------------------------------------------------------------------------
# Backoff arithmetic
# ---------------------------------------------------------------------------------------------


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)


def backoff_delay(
    attempt: int,
    rng: random.Random,
    *,
    base: float = 0.5,
    cap: float = 30.0,
    retry_after: float | None = None,
) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)], but never less than the
    server's Retry-After (which may exceed the cap: the server knows best)."""
    ceiling = min(cap, base * (2 ** min(attempt, 30)))
    delay = rng.uniform(0.0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def batch_key(event_id: str, op_ids: Iterable[str]) -> str:
    """The Idempotency-Key of a batch: the same ops give the same key, in any round."""
    h = hashlib.sha256(event_id.encode())
    for op_id in op_ids:
        h.update(b"\n" + op_id.encode())
    return "b-" + h.hexdigest()[:40]


# ---------------------------------------------------------------------------------------------
# Persisted state: cursors and the rejected list
# ---------------------------------------------------------------------------------------------


def _read_json(path: Path, default: Any) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except (OSError, ValueError) as exc:
        raise SyncError(f"{path}: unreadable ({exc}); move it aside to start over") from None


def _write_json(path: Path, data: Any) -> None:
    from roundtable.osfiles import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


class SyncState:
    """``sync.json``: the server's URL and the pull cursor per event.  A different URL starts
    the cursors over (another server's seq numbers mean nothing here)."""

    def __init__(self, home: Path, base_url: str) -> None:
        self.path = home / SYNC_FILE
        data = _read_json(self.path, {})
        if not isinstance(data, dict):
            data = {}
        self.base_url = base_url
        same = data.get("url") == base_url
        cursors = data.get("cursors") if same else {}
        self.cursors: dict[str, int] = {
            k: v for k, v in (cursors or {}).items() if isinstance(v, int) and v >= 0
        }
        told = data.get("told_protocol") if same else None
        self.told_protocol: int | None = told if isinstance(told, int) else None

    def cursor(self, event_id: str) -> int:
        return self.cursors.get(event_id, 0)

    def save_cursor(self, event_id: str, seq: int) -> None:
        self.cursors[event_id] = seq
        self._save()

    def told(self, version: int) -> bool:
        """Was this laptop already told that this secretariat speaks ``version`` (older)?
        Remembers it from now on: the notice is said once."""
        if self.told_protocol == version:
            return True
        self.told_protocol = version
        self._save()
        return False

    def _save(self) -> None:
        data: dict[str, Any] = {"url": self.base_url, "cursors": self.cursors}
        if self.told_protocol is not None:
            data["told_protocol"] = self.told_protocol
        _write_json(self.path, data)


class RejectedList:
    """``sync-rejected.json``: batches the server refused, with the reason, kept in full."""

    def __init__(self, home: Path) -> None:
        self.path = home / REJECTED_FILE
        data = _read_json(self.path, {"batches": []})
        self.batches: list[dict[str, Any]] = list(data.get("batches", []))
        self.op_ids: set[str] = {o["op_id"] for b in self.batches for o in b.get("ops", [])}

    def add(self, ops: list[Op], status: int, reason: str) -> None:
        self.batches.append(
            {
                "rejected_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "status": status,
                "reason": reason,
                "ops": [o.to_dict() for o in ops],
            }
        )
        self.op_ids.update(o.op_id for o in ops)
        _write_json(self.path, {"batches": self.batches})

    def __len__(self) -> int:
        return len(self.op_ids)


# ---------------------------------------------------------------------------------------------
# The client
# ---------------------------------------------------------------------------------------------


class SyncClient:
    def __init__(
        self,
        store: LocalStore,
        base_url: str,
        token: str,
        *,
        ca_file: str | None = None,
        connect_timeout: float = 3.0,
        read_timeout: float = 15.0,
        round_deadline: float = 60.0,
        batch_size: int = 200,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        label: str | None = None,
        detect_tls_port: bool = False,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise SyncError(f"API URL must start with http:// or https://, got {base_url[:80]!r}")
        if not 1 <= batch_size <= protocol.MAX_BATCH:
            raise SyncError(f"batch_size must be 1-{protocol.MAX_BATCH}, got {batch_size}")
        self.store = store
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.ca_file = ca_file
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self.round_deadline = round_deadline
        self.batch_size = batch_size
        self.rng = rng or random.Random()
        self.sleep = sleep or asyncio.sleep
        self.monotonic = monotonic
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._deadline = 0.0
        self._attempts = 0
        self.label = label  # who this laptop is, shown in conflicts (else the token's label)
        # an http:// address whose server hangs up: check once whether the port speaks TLS
        # (the commands do; a probe would count as a connection to a test's fault proxy)
        self.detect_tls_port = detect_tls_port
        self._label_sent = ""
        self.server_protocol = protocol.PROTOCOL_VERSION  # what the secretariat answered in
        self.pull_page = protocol.PULL_PAGE_BEFORE  # what it serves, from its whoami

    def __repr__(self) -> str:  # never show the token
        return f"SyncClient({self.base_url!r})"

    # -- HTTP --------------------------------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        import httpx

        try:
            verify = _tls_context(self.ca_file or "", _bundle_stamp(self.ca_file or ""))
        except (OSError, ssl.SSLError) as exc:
            raise SyncError(f"{self.ca_file}: cannot use this CA bundle: {exc}") from None
        return httpx.AsyncClient(
            base_url=self.base_url,
            verify=verify,
            timeout=httpx.Timeout(self.read_timeout, connect=self.connect_timeout),
            headers={"Authorization": f"Bearer {self._token}"},
            follow_redirects=False,
        )

    async def _request(self, client, method: str, path: str, **kw: Any):
        """One request, retried on transport errors and 408/425/429/5xx until the deadline."""
        import httpx

        attempt = 0
        while True:
            self._attempts = attempt  # how many tries the last request took, less one
            retry_after = None
            try:
                resp = await client.request(method, path, **kw)
            except httpx.TransportError as exc:
                # no retry can fix a certificate or a scheme: say so at once, with the fix
                fatal = _certificate_problem(exc, self.base_url, self.ca_file)
                if fatal is None and self.detect_tls_port and attempt == 0:
                    if isinstance(exc, _plain_errors()):  # a TLS port hangs up on plain HTTP
                        fatal = await _plain_http_to_tls(self.base_url)
                if fatal is not None:
                    raise SyncError(fatal) from None
                reason = _transport_reason(exc, self.base_url)
            else:
                code = resp.status_code
                if code == 400 and not isinstance(_json(resp), dict):
                    # not the secretariat's answer: nginx's "plain HTTP request was sent to
                    # HTTPS port", or the like
                    fatal = await _plain_http_to_tls(self.base_url)
                    if fatal is not None:
                        raise SyncError(fatal)
                if code not in RETRYABLE_STATUS and code < 500:
                    return resp
                reason = f"{method} {path}: HTTP {code}"
                retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            delay = backoff_delay(
                attempt,
                self.rng,
                base=self.backoff_base,
                cap=self.backoff_cap,
                retry_after=retry_after,
            )
            if self.monotonic() + delay > self._deadline:
                raise SyncError(f"{reason} (gave up after {attempt + 1} attempts)")
            await self.sleep(delay)
            attempt += 1

    def _start_round(self) -> None:
        self._deadline = self.monotonic() + self.round_deadline
        self._label_sent = ""

    async def whoami(self) -> dict[str, Any]:
        """The token's event and regions; SyncError if the server is unreachable or refuses."""
        self._start_round()
        async with self._client() as client:
            return await self._whoami(client)

    async def _whoami(self, client) -> dict[str, Any]:
        resp = await self._request(
            client, "GET", "/v1/whoami", params={protocol.PROTOCOL_PARAM: protocol.PROTOCOL_VERSION}
        )
        if resp.status_code == 401:
            raise _AuthError(f"{self.base_url}: the token was not accepted (401)")
        if resp.status_code != 200:
            raise SyncError(f"{self.base_url}/v1/whoami: HTTP {resp.status_code}: {_detail(resp)}")
        data = _json(resp)
        if not isinstance(data, dict) or not isinstance(data.get("event_id"), str):
            raise SyncError(f"{self.base_url}/v1/whoami: not a secretariat answer")
        self.server_protocol = _check_protocol(data, f"{self.base_url}/v1/whoami")
        self.pull_page = protocol.pull_page_size(data)
        if not self.label and isinstance(data.get("label"), str) and data["label"].strip():
            self.label = data["label"][: protocol.MAX_LABEL]
        return data

    # -- push --------------------------------------------------------------------------------

    async def push(self, *, progress: Progress | None = None, _client=None) -> SyncResult:
        """Push every pending op of the token's event; see the module docstring."""
        result = SyncResult()
        if _client is None:
            self._start_round()
            async with self._client() as client:
                who = await self._whoami(client)
                await self._push(client, who["event_id"], result, progress)
        else:
            who = await self._whoami(_client)
            await self._push(_client, who["event_id"], result, progress)
        return result

    async def _push(self, client, event_id: str, result: SyncResult, progress) -> None:
        rejected = RejectedList(self.store.home)
        version = self.server_protocol
        local_only: set[str] = set()  # ops an older secretariat cannot take: they stay here
        unknown: set[str] = set()  # what of theirs it does not know (``protocol.novelty``)
        # listing and counting read a few small files per unit and open none of them
        outboxes = await asyncio.to_thread(self.store.outboxes, event_id)
        total = sum(ob.count for ob in outboxes)
        done = 0
        if progress:
            progress(0, total, "push")
        for outbox in outboxes:
            # one batch at a time: memory holds a batch, never the whole outbox (issue 12)
            size = self.batch_size
            stuck: set[str] = set()  # ops an answer did not mention: not sent again this round
            try:
                while True:
                    try:
                        # a window a little past the batch: a new session's region op (in its
                        # creation change, at the journal's start) always lies inside it
                        window = await _file_work(
                            outbox.shared, outbox.pending, size + REGION_WINDOW,
                            rejected.op_ids | stuck | local_only,
                        )  # fmt: skip
                    except StoreError as exc:
                        # open for writing in another roundtable (the app): that one pushes it
                        result.skipped.append(str(exc))
                        break
                    if not window:
                        break
                    if version < protocol.PROTOCOL_VERSION:
                        kept = {o.op_id for o in window if not protocol.fits(o, version)}
                        if kept:
                            local_only |= kept
                            unknown.update(
                                protocol.novelty(o, version) for o in window if o.op_id in kept
                            )
                            window = [o for o in window if o.op_id not in kept]
                            if not window:
                                continue
                    # a session's region goes first: the server scopes every later op by it
                    window.sort(key=lambda o: not (o.kind == "session" and o.field == "region"))
                    batch = window[:size]
                    del window
                    status, answer = await self._push_batch(client, event_id, batch, version)
                    if status == 413 and len(batch) > 1:
                        size = max(1, len(batch) // 2)
                        continue
                    if status == 200:
                        acked = [*answer["accepted"], *answer["duplicates"]]
                        await _file_work(outbox.shared, outbox.mark_acked, acked)
                        stuck.update({o.op_id for o in batch} - set(acked))
                        if answer.get("replayed") is True and not self._attempts:
                            # stored in an earlier round whose answer was lost: not new now
                            result.duplicates += len(acked)
                        else:
                            result.pushed += len(answer["accepted"])
                            result.duplicates += len(answer["duplicates"])
                    elif not 400 <= status < 500:
                        raise SyncError(f"push: unexpected HTTP {status}: {answer}")
                    elif str(answer).startswith(protocol.PROTOCOL_REFUSAL):
                        # not these ops' fault: keep them pending for a matching roundtable
                        raise SyncError(
                            f"push: the secretariat refused this roundtable's sync protocol "
                            f"({answer}); upgrade roundtable or the secretariat"
                        )
                    else:
                        rejected.add(batch, status, str(answer))
                        result.rejected += len(batch)
                        result.rejections.append(
                            f"rejected {len(batch)} change{'s' if len(batch) != 1 else ''} "
                            f"(HTTP {status}): {str(answer)[:300]}"
                        )
                    done += len(batch)
                    if progress:
                        progress(done, max(total, done), "push")
            finally:
                await _file_work(outbox.shared, outbox.close)  # a checkpoint, off the loop
        result.rejected_total = len(rejected)
        result.held = await asyncio.to_thread(self.store.held_back, event_id)
        result.kept_local = len(local_only)
        if local_only and not SyncState(self.store.home, self.base_url).told(version):
            result.notice = (
                f"{len(local_only)} change{'s' if len(local_only) != 1 else ''} kept on this "
                f"laptop: the secretariat speaks sync protocol {version}, which does not know "
                f"{', '.join(sorted(unknown))}; they go once it is upgraded"
            )

    async def _push_batch(
        self, client, event_id: str, batch: list[Op], version: int = protocol.PROTOCOL_VERSION
    ) -> tuple[int, Any]:
        body = protocol.push_body(batch, self.store.device, self.label, version)
        key = batch_key(event_id, (o.op_id for o in batch))
        resp = await self._request(
            client,
            "POST",
            f"/v1/events/{event_id}/ops",
            content=json.dumps(body, ensure_ascii=False).encode(),
            headers={"Idempotency-Key": key, "Content-Type": "application/json"},
        )
        if resp.status_code == 401:
            raise _AuthError(f"{self.base_url}: the token was not accepted (401)")
        if resp.status_code == 200:
            data = _json(resp)
            ok = isinstance(data, dict) and all(
                isinstance(data.get(k), list) for k in ("accepted", "duplicates")
            )
            if not ok:
                raise SyncError(f"{self.base_url}: push answer is not a secretariat answer")
            _check_protocol(data, "push")
            return 200, data
        return resp.status_code, _detail(resp)

    # -- pull --------------------------------------------------------------------------------

    async def pull(self, *, progress: Progress | None = None, _client=None) -> int:
        """Pull every page since the saved cursor; returns how many ops were new here."""
        if _client is None:
            self._start_round()
            async with self._client() as client:
                who = await self._whoami(client)
                return await self._pull(client, who["event_id"], progress)
        who = await self._whoami(_client)
        return await self._pull(_client, who["event_id"], progress)

    async def _pull(self, client, event_id: str, progress) -> int:
        state = SyncState(self.store.home, self.base_url)
        cursor = state.cursor(event_id)
        # units stay open across pages (opening and closing one per page costs a checkpoint)
        puller = self.store.puller()
        try:
            return await self._pull_pages(client, event_id, progress, state, cursor, puller)
        finally:
            await asyncio.to_thread(puller.close)  # only units the puller opened itself

    async def _pull_pages(self, client, event_id, progress, state, cursor, puller) -> int:
        applied = 0
        seen = 0
        while True:
            resp = await self._request(
                client,
                "GET",
                f"/v1/events/{event_id}/ops",
                # the server leaves out our own ops: they are in our journals already
                params={
                    "since": cursor,
                    "limit": self.pull_page,
                    "exclude": self.store.device,
                    protocol.PROTOCOL_PARAM: protocol.PROTOCOL_VERSION,
                },
            )
            if resp.status_code == 401:
                raise _AuthError(f"{self.base_url}: the token was not accepted (401)")
            if resp.status_code != 200:
                raise SyncError(f"pull: HTTP {resp.status_code}: {_detail(resp)}")
            page = _json(resp)
            if not isinstance(page, dict) or not isinstance(page.get("ops"), list):
                raise SyncError("pull: the answer is not a page of ops")
            _check_protocol(page, f"pull since {cursor}")
            try:
                ops = [
                    protocol.parse_op(o, where=f"pull since {cursor}: ops[{i}]")
                    for i, o in enumerate(page["ops"])
                ]
            except protocol.ProtocolError as exc:
                raise SyncError(str(exc)) from None
            if any(o.event_id != event_id for o in ops):
                raise SyncError(f"pull since {cursor}: an op of another event")
            try:
                # a secretariat that ignored ``exclude``: skip our own ops without a lookup
                own = self.store.device
                fresh = [o for o in ops if o.device != own]
                # other units in a worker thread; the app's open session on its own loop
                applied += await asyncio.to_thread(puller.apply, fresh, shared=False)
                applied += puller.apply(fresh, shared=True)
            except StoreError as exc:
                raise SyncError(f"pull: cannot apply: {exc}") from None
            nxt = page.get("next")
            if not isinstance(nxt, int) or nxt < cursor:
                raise SyncError(f"pull since {cursor}: bad cursor {nxt!r}")
            cursor = nxt
            state.save_cursor(event_id, cursor)
            labels = page.get("labels")
            if isinstance(labels, dict):
                self.store.save_device_labels(labels)
            seen += len(ops)
            more = bool(page.get("more"))
            if progress:
                progress(seen, seen + (1 if more else 0), "pull")
            if not more or not ops:
                return applied

    # -- one round ---------------------------------------------------------------------------

    async def sync_once(self, progress: Progress | None = None) -> SyncResult:
        """Push then pull, within ``round_deadline`` seconds.  Never raises for network or
        server trouble: the result says what happened."""
        result = SyncResult()
        self._start_round()
        try:
            async with self._client() as client:
                who = await self._whoami(client)
                event_id = who["event_id"]
                await self._push(client, event_id, result, progress)
                result.pulled = await self._pull(client, event_id, progress)
        except _AuthError as exc:
            result.auth_error = True
            result.error = str(exc)
        except SyncError as exc:
            result.error = str(exc)
        except StoreError as exc:
            result.error = f"local store: {exc}"
        return result


def _bundle_stamp(ca_file: str) -> tuple[object, ...]:
    """What makes a cached TLS context stale: the CA file changed, or the environment's."""
    import os

    env = (os.environ.get("SSL_CERT_FILE"), os.environ.get("SSL_CERT_DIR"))
    if not ca_file:
        return env
    stat = os.stat(ca_file)  # OSError: the caller's one-line error
    return (*env, stat.st_mtime_ns, stat.st_size, stat.st_ino)


@functools.lru_cache(maxsize=8)
def _tls_context(ca_file: str, stamp: tuple[object, ...]) -> ssl.SSLContext:
    """The TLS context of the HTTP clients, built once per CA bundle: building one reads the
    whole bundle (20-40 ms), which each sync round did on the app's event loop (issue 16)."""
    import httpx

    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    return httpx.create_ssl_context()  # what httpx builds for verify=True


async def _file_work(shared: bool, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a store call for one unit: on the event loop for the unit this process holds open
    (its owner's thread), in a worker thread for any other (``roundtable.store.outbox``)."""
    if shared:
        return fn(*args)
    return await asyncio.to_thread(fn, *args)


def _check_protocol(data: dict[str, Any], where: str) -> int:
    """The protocol an answer is in: ours, or an older one (the secretariat is older); an
    answer naming a newer or unknown protocol is refused before anything of it is used (an
    answer without one is of protocol 1, the first)."""
    theirs = data.get("protocol", 1)
    if (
        isinstance(theirs, int)
        and not isinstance(theirs, bool)
        and 1 <= theirs <= protocol.PROTOCOL_VERSION
    ):
        return theirs
    raise SyncError(
        f"{where}: the secretariat speaks sync protocol {str(theirs)[:20]}, this roundtable "
        f"speaks {protocol.PROTOCOL_VERSION}; upgrade roundtable"
        if isinstance(theirs, int) and theirs > protocol.PROTOCOL_VERSION
        else f"{where}: the secretariat speaks sync protocol {str(theirs)[:20]}, this "
        f"roundtable speaks {protocol.PROTOCOL_VERSION}"
    )


def _json(resp) -> Any:
    try:
        return resp.json()
    except ValueError:
        return None


def _detail(resp) -> str:
    data = _json(resp)
    if isinstance(data, dict) and isinstance(data.get("detail"), str):
        return data["detail"][:300]
    return resp.reason_phrase or f"HTTP {resp.status_code}"


def _certificate_problem(exc: BaseException, base_url: str, ca_file: str | None) -> str | None:
    """The one line for a TLS certificate that does not verify, with what to do; None for any
    other transport error (those are retried)."""
    seen: BaseException | None = exc
    verify: BaseException | None = None
    for _ in range(8):  # the ssl error sits a few causes down (httpx <- httpcore <- ssl)
        if seen is None:
            break
        if isinstance(seen, ssl.SSLCertVerificationError) or "CERTIFICATE_VERIFY_FAILED" in str(
            seen
        ):
            verify = seen
            break
        seen = seen.__cause__ or seen.__context__
    if verify is None:
        return None
    why = getattr(verify, "verify_message", "") or str(verify).split("]")[-1].strip()
    why = why.split("(_ssl")[0].strip().rstrip(".")[:160] or "certificate verify failed"
    if ca_file:
        fix = (
            f"{ca_file} did not verify it: is it the CA that signed the server's certificate, "
            "and is the address the name on that certificate?"
        )
    else:
        fix = (
            "if the secretariat uses its own certificate authority, give its CA file: "
            f"roundtable connect {base_url} --token ... --ca-file CA.pem"
        )
    return f"{base_url}: the server's TLS certificate is not trusted ({why}); {fix}"


async def _plain_http_to_tls(base_url: str) -> str | None:
    """For an ``http://`` address whose server answered nonsense: if the port speaks TLS, the
    line that says to use ``https://``; else None."""
    from urllib.parse import urlsplit

    parts = urlsplit(base_url)
    if parts.scheme != "http" or not parts.hostname:
        return None
    port = parts.port or 80
    if not await asyncio.to_thread(_speaks_tls, parts.hostname, port):
        return None
    https = base_url.replace("http://", "https://", 1)
    return f"{base_url}: this port speaks TLS (https), not plain HTTP; use {https}"


def _speaks_tls(host: str, port: int, timeout: float = 3.0) -> bool:
    """Whether a TLS handshake succeeds on host:port (the certificate is not checked: this
    only tells a TLS port from a plain one)."""
    import socket

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host):
                return True
    except (OSError, ssl.SSLError):
        return False


def _transport_reason(exc: Exception, base_url: str) -> str:
    name = type(exc).__name__
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{base_url}: {name}" + (f": {text}" if text else "")
