"""The crash-safety matrix beyond kill -9 during captures (tests/test_crash.py):

* a crash at each disk step of `roundtable export` (tests/killpoints.py): the minutes file is
  absent before the rename and complete from it on, never half;
* a crash at each stage of a sync round (each request sent, each answer received, each disk
  step of recording it), and a few real kill -9 at random moments of a capture-and-sync loop
  (real server): after a restart and one more round, the server holds every acknowledged
  capture exactly once;
* disk full: a failing write (RLIMIT_FSIZE) and, where the machine allows mounting, a store on a
  tiny tmpfs: the capture is refused with one line naming the problem, nothing acknowledged is
  lost, and the next capture works once there is room;
* a disk with room for the journal line but not the view: the capture is kept, the failed
  checkpoint is one note, the old view stays whole;
* a read-only home (a read-only bind mount as root; and file modes, which root obeys once it
  drops its override capabilities): reading works, writing is refused with one line naming the
  path, nothing changes;
* a second process, or a second app (Pilot), on an open session is refused with one line naming
  the session and the holder's pid.
Trial counts go through tests/budget.py (`make soak` multiplies them); kill points come from a
seed printed in every failure (RT_CRASH_SEED replays it)."""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from _cli import rt
from budget import count
from killpoints import Outcome, every_kill_point

from roundtable.store import LocalStore

ROOT = Path(__file__).resolve().parent.parent
SYNC_WRITER = Path(__file__).with_name("_crash_sync_writer.py")
AGENDA = [{"title": "Needs", "item_kind": "needs"}]


def cli_env(home: Path) -> dict[str, str]:
    return dict(
        os.environ,
        ROUNDTABLE_HOME=str(home),
        ROUNDTABLE_CONFIG=str(home.parent / "settings.toml"),
        PYTHONPATH=str(ROOT),
    )


def roundtable(home: Path, *args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "roundtable", *args],
        env=cli_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def in_process(home: Path, *args: str) -> subprocess.CompletedProcess:
    """``roundtable ARGS`` through cli.main in this process (tests/_cli.py): for the tests here
    whose point is the store's answer, not the process (those that need a resource limit or
    dropped capabilities run ``roundtable`` in a process)."""
    return rt(*args, home=home)


def one_line(err: str) -> str:
    assert err.endswith("\n") and err.count("\n") == 1 and "Traceback" not in err, err
    return err


def new_session(home: Path, entries: int = 0) -> str:
    store = LocalStore(home)
    event = store.create_event("Conference")
    sid = store.create_session(event.id, "africa", "Round table", AGENDA).id
    with store.open_session(sid) as ss:
        for n in range(entries):
            ss.add_entry("need", f"Need number {n} " + "words " * 20, delegations=["GH", "NG"])
    return sid


def crash_seed() -> int:
    """The seed of the kill points: RT_CRASH_SEED replays a run, otherwise a new one each run
    (printed in every failure)."""
    return int(os.environ.get("RT_CRASH_SEED") or random.randrange(2**32))


def hold_session(home: Path, session_id: str) -> subprocess.Popen:
    """Another process with the session open for writing, until its stdin is closed (then it
    closes the session and exits 0) or it is killed; returns once the session is open."""
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys\nfrom roundtable.store import LocalStore\n"
         "ss = LocalStore(sys.argv[1]).open_session(sys.argv[2])\nprint('open', flush=True)\n"
         "sys.stdin.read()\nss.close()\n", str(home), session_id],
        env=cli_env(home),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
    return holder


def digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name != "lock"
    }


@pytest.mark.slow
def test_a_crash_at_every_step_of_an_export_leaves_no_half_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`roundtable export` (cli.main in a forked child) dies at each of its disk steps in turn
    (tests/killpoints.py): before the rename of its temp file the minutes file is absent, from
    the rename on it is complete (byte for byte a clean export's), never half; the store is
    untouched and opens."""
    from roundtable import cli

    home = tmp_path / "home"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    sid = new_session(home, entries=300)
    clean = tmp_path / "clean.html"
    assert cli.main(["export", sid, "--format", "html", "-o", str(clean)]) == 0
    expected, before = clean.read_bytes(), digest(home)
    out = tmp_path / "out" / "minutes.html"

    def reset() -> None:
        shutil.rmtree(out.parent, ignore_errors=True)
        out.parent.mkdir()

    def work(ack) -> None:
        assert cli.main(["export", sid, "--format", "html", "-o", str(out)]) == 0
        ack("exported")

    renamed = False

    def check(outcome: Outcome) -> None:
        nonlocal renamed
        left = sorted(p.name for p in out.parent.iterdir())
        if renamed or not outcome.killed:  # the kill came after the rename: complete
            assert left == ["minutes.html"] and out.read_bytes() == expected, outcome
        else:  # before it: absent, at most the hidden temp file left
            assert "minutes.html" not in left, outcome
            assert all(name.startswith(".minutes.html.tmp-") for name in left), (outcome, left)
        renamed = renamed or outcome.step.endswith(" minutes.html") and "replace" in outcome.step
        assert digest(home) == before, outcome

    outcomes = every_kill_point(work, check, reset)
    steps = [o.step for o in outcomes]
    assert outcomes[-1].acked == ["exported"] and renamed, steps
    rename = next(i for i, s in enumerate(steps) if s.startswith("replace"))
    assert 0 < rename < len(steps) - 1, steps  # kills before it (absent) and after it (complete)
    assert any("torn" in s for s in steps[:rename]), steps
    with LocalStore(home).open_session(sid) as ss:
        assert len(ss.records("entry")) == 300


@pytest.mark.slow
def test_a_crash_at_every_stage_of_a_sync_round_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    """A laptop's sync round (its captures pushed in two batches, another laptop's pulled) dies
    at each stage in turn (tests/killpoints.py): each request sent, each answer received, each
    disk step of recording acknowledgements, pulled ops and the cursor.  Each trial starts from
    the same laptop home and server database (copies), so stage k is the same on every run.
    After each crash, one more round from the restarted laptop leaves nothing pending, the
    server holds every capture exactly once and the laptop every capture of both."""
    import asyncio
    import sqlite3

    import httpx
    from fixtures_server import LiveServer
    from killpoints import point

    from roundtable.sync import SyncClient

    def sync(home: Path, url: str, token: str, batch_size: int = 200):
        return asyncio.run(
            SyncClient(LocalStore(home), url, token, batch_size=batch_size).sync_once()
        )

    base = LiveServer(tmp_path / "base.db").start()
    try:
        event_id = base.create_event("Conference")
        token = base.token(event_id)
        other, base_home = tmp_path / "other", tmp_path / "base-home"
        for where in (other, base_home):
            assert sync(where, base.url, token).ok
        theirs = LocalStore(other).create_session(event_id, "europe", "Theirs", AGENDA).id
        with LocalStore(other).open_session(theirs) as ss:
            for k in range(2):
                ss.add_entry("need", f"Their need {k}", delegations=["FR"])
        assert sync(other, base.url, token).ok
        mine = LocalStore(base_home).create_session(event_id, "africa", "Mine", AGENDA).id
        with LocalStore(base_home).open_session(mine) as ss:
            for k in range(3):
                ss.add_entry("need", f"My need {k}", delegations=["GH"])
            batch = (ss.pending_count() + 1) // 2  # two push batches
    finally:
        base.stop()
    home = tmp_path / "home"
    trial: dict = {}

    def reset() -> None:
        if trial.get("server"):
            trial["server"].stop(wait=False)  # its database is never read again
        shutil.rmtree(home, ignore_errors=True)
        shutil.copytree(base_home, home)
        db = tmp_path / f"trial-{len(trial)}.db"
        with sqlite3.connect(base.db_path) as src, sqlite3.connect(db) as dst:
            src.backup(dst)
        trial["server"] = LiveServer(db).start()  # another port: the laptop pulls from 0 again
        trial[db.name] = True

    def work(ack) -> None:
        real_send = httpx.AsyncClient.send

        async def send(self, request, **kw):
            point(f"send {request.method} {request.url.path}")
            resp = await real_send(self, request, **kw)
            point(f"answer {request.method} {request.url.path} {resp.status_code}")
            return resp

        httpx.AsyncClient.send = send  # type: ignore[method-assign]  # in the child only
        result = sync(home, trial["server"].url, token, batch_size=batch)
        assert result.ok, result.summary()
        ack(f"pushed {result.pushed}")

    def check(outcome: Outcome) -> None:
        server = trial["server"]
        result = sync(home, server.url, token)  # the laptop restarted: one more round
        assert result.ok, (outcome, result.summary())
        store = LocalStore(home)
        with store.open_session(mine) as ss:
            assert ss.pending_count() == 0, outcome
            my_ids = {e.id for e in ss.records("entry")}
        with store.open_session(theirs, read_only=True) as ss:
            their_ids = {e.id for e in ss.records("entry")}
        assert len(my_ids) == 3 and len(their_ids) == 2, outcome
        rows = server.query(
            "SELECT record_id, COUNT(*), COUNT(DISTINCT op_id) FROM ops "
            "WHERE kind = 'entry' AND field = 'text' GROUP BY record_id"
        )
        assert {r: (n, d) for r, n, d in rows} == dict.fromkeys(my_ids | their_ids, (1, 1))
        (total, distinct) = server.query("SELECT COUNT(*), COUNT(DISTINCT op_id) FROM ops")[0]
        assert total == distinct, outcome

    try:
        outcomes = every_kill_point(work, check, reset)
    finally:
        if trial.get("server"):
            trial["server"].stop()
    steps = [o.step for o in outcomes if o.killed]
    assert outcomes[-1].acked and outcomes[-1].acked[0].startswith("pushed"), steps
    assert sum(s.startswith("answer POST") for s in steps) == 2, steps  # two push batches
    assert any(s.startswith("answer GET") for s in steps), steps  # a pull page
    assert any(s.startswith("replace") and s.endswith("sync.json") for s in steps), steps


@pytest.mark.slow
def test_kill_9_during_sync_loses_and_duplicates_nothing(tmp_path: Path, live_server) -> None:
    event_id = live_server.create_event("Conference")
    token = live_server.token(event_id)
    home = tmp_path / "home"
    store = LocalStore(home)
    import asyncio

    from roundtable.sync import SyncClient

    assert asyncio.run(SyncClient(store, live_server.url, token).sync_once()).ok
    sid = store.create_session(event_id, "africa", "Round table", AGENDA).id
    seed = crash_seed()
    rng = random.Random(seed)
    acknowledged: list[str] = []
    rounds_seen = 0
    for trial in range(count(3, soak=12)):
        proc = subprocess.Popen(
            [sys.executable, str(SYNC_WRITER), str(home), sid, live_server.url, token],
            env=cli_env(home),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        early = ""
        if trial == 0:  # the first kill after a round was acknowledged, however slow the machine
            while not (line := proc.stdout.readline()).startswith("synced"):
                assert line, proc.stderr.read()
                early += line
            early += line
            time.sleep(rng.uniform(0.0, 0.3))
        else:
            time.sleep(rng.uniform(0.05, 1.0))
        proc.send_signal(signal.SIGKILL)
        out, _ = proc.communicate()
        out = early + out
        acknowledged += [line for line in out.splitlines() if len(line) == 36]
        rounds_seen += sum(1 for line in out.splitlines() if line.startswith("synced"))
    assert acknowledged and rounds_seen, f"the trials captured and synced (seed {seed})"
    store = LocalStore(home)
    with store.open_session(sid) as ss:
        stored = {e.id for e in ss.records("entry")}
        assert set(acknowledged) <= stored, f"an acknowledged capture lost (seed {seed})"
        result = asyncio.run(SyncClient(store, live_server.url, token).sync_once())
        assert result.ok and ss.pending_count() == 0, (seed, result.summary())
    on_server = live_server.query(
        "SELECT record_id, COUNT(*), COUNT(DISTINCT op_id) FROM ops WHERE kind = 'entry' "
        "AND field = 'text' GROUP BY record_id"
    )
    by_record = {rid: (n, distinct) for rid, n, distinct in on_server}
    assert set(acknowledged) <= set(by_record), f"a capture never reached the server (seed {seed})"
    assert set(by_record) <= stored, f"the server holds a capture never stored (seed {seed})"
    dup = [rid for rid, (n, distinct) in by_record.items() if not n == distinct == 1]
    assert not dup, f"{len(dup)} entries with duplicate text ops (seed {seed})"
    (total, distinct) = live_server.query("SELECT COUNT(*), COUNT(DISTINCT op_id) FROM ops")[0]
    assert total == distinct, f"seed {seed}"


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_failing_write_refuses_the_capture_and_keeps_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sid = new_session(home, entries=3)
    journal = home / "sessions" / sid / "journal.jsonl"
    before = journal.read_bytes()
    out = roundtable(
        home, "add", sid, "/need " + "A long need " * 60, preexec_fn=_limit_file_size(
            len(before) + 200)
    )  # fmt: skip
    assert out.returncode == 1
    err = one_line(out.stderr)
    assert "journal.jsonl: not saved" in err and "nothing was changed" in err
    assert journal.read_bytes() == before  # the partial line was cut off
    again = roundtable(home, "add", sid, "/note There is room again")
    assert again.returncode == 0, again.stderr
    with LocalStore(home).open_session(sid, read_only=True) as ss:
        assert [e.text for e in ss.records("entry")][-1] == "There is room again"
        assert len(ss.records("entry")) == 4


@contextmanager
def mounted(kind: str, target: Path, *options: str, source: str = "none"):
    target.mkdir(parents=True, exist_ok=True)
    args = ["mount", *(["-t", kind] if kind else []), *options, source, str(target)]
    try:
        done = subprocess.run(args, capture_output=True, text=True)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if done.returncode != 0:
        pytest.skip(f"cannot mount here: {done.stderr.strip()[:100]}")
    try:
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def test_disk_full_on_a_tiny_tmpfs(tmp_path: Path) -> None:
    with mounted("tmpfs", tmp_path / "tiny", "-o", "size=512k", source="tmpfs") as disk:
        home = disk / "home"
        sid = new_session(home, entries=2)
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as f:  # take all the room but a little
            try:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
            except OSError:
                pass
        os.truncate(filler, max(0, filler.stat().st_size - 16384))
        refused = None
        for n in range(40):  # fill up what is left: the capture that does not fit is refused
            out = in_process(home, "add", sid, f"/need Need {n} " + "padding " * 120)
            if out.returncode != 0:
                refused = out
                break
        assert refused is not None, "the disk never filled"
        err = one_line(refused.stderr)
        assert "journal.jsonl: not saved" in err and "nothing was changed" in err, err
        assert "disk full" in err or "No space left on device" in err, err
        with LocalStore(home).open_session(sid, read_only=True) as ss:
            texts = [e.text for e in ss.records("entry")]
        assert len(texts) == 2 + n  # every acknowledged capture is there
        filler.unlink()  # room again
        again = in_process(home, "add", sid, "/note After the disk was freed")
        assert again.returncode == 0, again.stderr
        with LocalStore(home).open_session(sid, read_only=True) as ss:
            assert ss.records("entry")[-1].text == "After the disk was freed"
        assert not list((home / "sessions" / sid).glob("*.corrupt-*"))


@contextmanager
def read_only(home: Path):
    """The home made read-only: a read-only bind mount as root (file modes do not stop root),
    file modes otherwise."""
    if os.geteuid() == 0:
        with mounted("", home, "--bind", source=str(home)):
            done = subprocess.run(
                ["mount", "-o", "remount,ro,bind", str(home)], capture_output=True, text=True
            )
            if done.returncode != 0:
                pytest.skip(f"cannot remount read-only: {done.stderr.strip()[:100]}")
            yield
    else:
        dirs = [home, *[p for p in home.rglob("*") if p.is_dir()]]
        for d in dirs:
            d.chmod(0o555)
        try:
            yield
        finally:
            for d in dirs:
                d.chmod(0o755)


def test_read_only_home_reads_and_refuses_writes_clearly(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sid = new_session(home, entries=2)
    before = digest(home)
    with read_only(home):
        listed = in_process(home, "sessions")
        assert listed.returncode == 0 and sid in listed.stdout, listed.stderr
        exported = in_process(home, "export", sid, "-o", str(tmp_path / "minutes.md"))
        assert exported.returncode == 0, exported.stderr
        assert "Need number 1" in (tmp_path / "minutes.md").read_text(encoding="utf-8")
        for args in (("add", sid, "/note Not possible"), ("new", "--region", "europe")):
            out = in_process(home, *args)
            assert out.returncode == 1, (args, out.stderr)
            err = one_line(out.stderr)
            assert str(home) in err and ("Read-only" in err or "Permission denied" in err), err
    assert digest(home) == before


def test_second_process_on_an_open_session_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "home"
    sid = new_session(home, entries=1)
    holder = hold_session(home, sid)
    try:
        before = digest(home)
        out = in_process(home, "add", sid, "/note From a second laptop window")
        assert out.returncode == 1
        err = one_line(out.stderr)
        assert sid in err and str(holder.pid) in err, err
        assert digest(home) == before
        listed = in_process(home, "sessions")  # reading beside the writer is fine
        assert listed.returncode == 0 and sid in listed.stdout
    finally:
        holder.kill()
        holder.wait()
    after = in_process(home, "add", sid, "/note Once the other one is gone")
    assert after.returncode == 0, after.stderr


def test_checkpoint_that_does_not_fit_is_a_note_and_the_capture_is_kept(tmp_path: Path) -> None:
    """Room for the journal line but not for the view: the capture is acknowledged (exit 0),
    the failed checkpoint is one note naming view.json, and the old view is left whole."""
    with mounted("tmpfs", tmp_path / "tiny", "-o", "size=512k", source="tmpfs") as disk:
        home = disk / "home"
        sid = new_session(home, entries=30)  # a view of ~30 kB, a capture line of ~1 kB
        unit = home / "sessions" / sid
        filler = disk / "filler"
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\0" * 4096)
            except OSError:
                pass
        os.truncate(filler, filler.stat().st_size - 12288)  # 12 kB: the line fits, the view not
        view = (unit / "view.json").read_bytes()
        out = in_process(home, "add", sid, "/note Fits in the journal")
        assert out.returncode == 0, out.stderr
        err = one_line(out.stderr)
        assert err.startswith("roundtable: note: ") and "view.json" in err, err
        assert "No space left on device" in err, err
        assert (unit / "view.json").read_bytes() == view  # never a half view
        # no temp file left behind (summary.json is the previous checkpoint's, still there)
        assert sorted(p.name for p in unit.iterdir()) == [
            "journal.jsonl",
            "lock",
            "summary.json",
            "view.json",
        ]
        filler.unlink()
        with LocalStore(home).open_session(sid) as ss:  # the journal replays the capture
            texts = [e.text for e in ss.records("entry")]
        assert len(texts) == 31 and texts[-1] == "Fits in the journal"


def _without_root_powers() -> None:
    """Run as root but without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH: file modes apply."""
    import ctypes

    prctl = ctypes.CDLL(None, use_errno=True).prctl
    for cap in (1, 2):  # PR_CAPBSET_DROP = 24; the new program gets no such capability
        if prctl(24, cap, 0, 0, 0) != 0:
            os._exit(77)


def test_read_only_home_by_file_modes(tmp_path: Path) -> None:
    """The home's directories are 0555 and its files 0444 (root runs the commands without the
    power to ignore file modes): reading works, every writing command is refused in one line
    naming the path, nothing changes."""
    home = tmp_path / "home"
    sid = new_session(home, entries=2)
    before = digest(home)
    preexec = _without_root_powers if os.geteuid() == 0 else None
    dirs = [home, *[p for p in home.rglob("*") if p.is_dir()]]
    files = [p for p in home.rglob("*") if p.is_file()]
    for p in files:
        p.chmod(0o444)
    for d in dirs:
        d.chmod(0o555)
    try:
        probe = subprocess.run(
            [sys.executable, "-c", "import sys; open(sys.argv[1], 'w')", str(home / "probe")],
            preexec_fn=preexec,
            capture_output=True,
        )
        if probe.returncode == 0 or probe.returncode == 77:
            (home / "probe").unlink(missing_ok=True)
            pytest.skip("file modes do not stop this user's writes here")
        listed = roundtable(home, "sessions", preexec_fn=preexec)
        assert listed.returncode == 0 and sid in listed.stdout, listed.stderr
        out_md = tmp_path / "minutes.md"
        exported = roundtable(home, "export", sid, "-o", str(out_md), preexec_fn=preexec)
        assert exported.returncode == 0, exported.stderr
        assert "Need number 1" in out_md.read_text(encoding="utf-8")
        for args in (
            ("add", sid, "/note Not possible"),
            ("new", "--region", "europe"),
            ("demo",),
        ):
            out = roundtable(home, *args, preexec_fn=preexec)
            assert out.returncode == 1, (args, out.stdout, out.stderr)
            err = one_line(out.stderr)
            assert str(home) in err and "Permission denied" in err, (args, err)
    finally:
        for d in dirs:
            d.chmod(0o755)
        for p in files:
            p.chmod(0o644)
    assert digest(home) == before


async def test_second_app_on_a_session_open_in_another_process(tmp_path: Path) -> None:
    """Another process holds the session: the app (driven with Pilot) shows one notification
    naming the session and the holder's pid, stays on the session list, changes nothing, and
    opens the session once the other process is gone."""
    from roundtable.app import RoundtableApp
    from roundtable.config import Settings
    from roundtable.screens.home import HomeScreen

    home = tmp_path / "home"
    sid = new_session(home, entries=3)
    holder = hold_session(home, sid)
    try:
        before = digest(home)
        app = RoundtableApp(home=home, session_id=sid, settings=Settings(), sync_enabled=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await pilot.pause()
            assert app.session_store is None
            assert isinstance(app.screen, HomeScreen)
            messages = [n.message for n in app._notifications]
            refused = [m for m in messages if "another roundtable" in m]
            assert len(refused) == 1, messages
            assert sid in refused[0] and f"pid {holder.pid}" in refused[0], refused[0]
            assert "\n" not in refused[0] and "Traceback" not in refused[0]
            assert digest(home) == before
            assert holder.stdin is not None
            holder.stdin.close()  # the other window closes the session
            assert holder.wait(timeout=60) == 0
            assert app.open_session(sid)  # now this one may
            await pilot.pause()
            assert app.session_store is not None
            assert len(app.session_store.records("entry")) == 3
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
