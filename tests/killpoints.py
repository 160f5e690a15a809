"""Deterministic kill points: a crash at every step of a write, instead of a kill -9 at a random
moment.

``run_killed_at(work, k)`` forks; the child counts the calls that put bytes or names on disk
(``os.open`` of a file for writing, ``os.write``, ``os.ftruncate``, ``os.fsync``,
``os.replace``, ``os.rename``, ``os.unlink``) and, at the ``k``-th one, dies with
``os._exit`` as kill -9 would leave it: nothing flushed, closed or cleaned up, its locks
released by the kernel.  A write it dies in is torn: the first half of its bytes reach the file,
the rest never does.  (Every other call dies before it is made.)  Stepping ``k`` from 1 until
the work completes runs a crash at each step of the atomic writer (temp file, write, flush,
rename, directory flush), each journal append (a torn line, the line without its flush) and
each stage of a sync round, in order, the same way on every run.  Stages that are not disk
calls (a request sent, its answer received) count too where the work marks them with
``point(name)``.

What the child acknowledged (a capture id after ``add_entry`` returned, a line after a sync
round) it reports through ``ack(text)``: one line on a pipe, written with the real ``os.write``
and never counted, so the parent knows exactly what was promised before the crash.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field

KILLED = 137  # the child's exit status at a kill point (128 + SIGKILL, as a shell shows it)
_COUNTED = ("open", "write", "ftruncate", "fsync", "replace", "rename", "unlink")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


@dataclass
class Outcome:
    killed: bool  # False: the work ran to its end before the k-th step
    step: str  # the call it died in ("write 43 bytes torn at 21", "replace view.json" ...)
    acked: list[str] = field(default_factory=list)


def run_killed_at(work: Callable[[Callable[[str], None]], None], k: int) -> Outcome:
    """Run ``work(ack)`` in a forked child that dies at its ``k``-th disk step (see above)."""
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(rfd)
        real_write = os.write

        def ack(text: str) -> None:
            real_write(wfd, f"ack\t{text}\n".encode())

        _arm(k, lambda step: real_write(wfd, f"step\t{step}\n".encode()))
        try:
            work(ack)
        except BaseException:
            real_write(wfd, f"error\t{traceback.format_exc()!r}\n".encode())
            os._exit(3)
        os._exit(0)
    os.close(wfd)
    chunks = []
    while chunk := os.read(rfd, 65536):
        chunks.append(chunk)
    os.close(rfd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    lines = b"".join(chunks).decode().splitlines()
    errors = [line for line in lines if line.startswith("error\t")]
    assert not errors and code in (0, KILLED), (code, errors)
    steps = [line.split("\t", 1)[1] for line in lines if line.startswith("step\t")]
    acked = [line.split("\t", 1)[1] for line in lines if line.startswith("ack\t")]
    return Outcome(code == KILLED, steps[-1] if steps else "", acked)


_step: Callable[[str], None] | None = None


def point(name: str) -> None:
    """A kill point of the work's own (a sync request sent, its answer received): counted like
    a disk step in a child of ``run_killed_at``, nothing elsewhere."""
    if _step is not None:
        _step(name)


def _arm(k: int, report: Callable[[str], None]) -> None:
    """In the child: wrap the counted calls of ``os`` so that the ``k``-th one dies."""
    global _step
    seen = 0
    real = {name: getattr(os, name) for name in _COUNTED}

    def step(name: str) -> None:
        nonlocal seen
        seen += 1
        if seen >= k:
            report(name)
            os._exit(KILLED)

    _step = step

    def wrap(name: str):
        call = real[name]

        def counted(*args, **kw):
            nonlocal seen
            if name == "open" and not (args[1] if len(args) > 1 else kw.get("flags", 0)) & (
                _WRITE_FLAGS
            ):
                return call(*args, **kw)  # opening to read (a directory to flush it) is no step
            seen += 1
            if seen < k:
                return call(*args, **kw)
            if name == "write" and len(args[1]) > 1:
                half = len(args[1]) // 2
                real["write"](args[0], bytes(args[1][:half]))
                report(f"write {len(args[1])} bytes torn at {half}")
            else:
                report(f"{name} {_name(args)}")
            os._exit(KILLED)

        return counted

    for name in _COUNTED:
        setattr(os, name, wrap(name))


def _name(args: tuple) -> str:
    return " ".join(os.path.basename(str(a)) for a in args if isinstance(a, str | os.PathLike))


def every_kill_point(
    work: Callable[[Callable[[str], None]], None],
    check: Callable[[Outcome], None],
    reset: Callable[[], None],
    limit: int = 500,
) -> list[Outcome]:
    """``work`` killed at step 1, 2, ... until it completes (``reset`` before each run,
    ``check`` after it); returns the outcomes, the last one the run that completed."""
    outcomes = []
    for k in range(1, limit + 1):
        reset()
        outcome = run_killed_at(work, k)
        check(outcome)
        outcomes.append(outcome)
        if not outcome.killed:
            return outcomes
    raise AssertionError(f"the work still had steps after {limit} kill points")
