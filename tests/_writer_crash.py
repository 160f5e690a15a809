"""Writer for the crash test: adds entries in a loop and prints each id once `add` returned.

It runs as a small fork server, so that a trial costs a fork instead of an interpreter start
and the imports (the store is imported once, before any session is opened).  Each trial:

    test -> server (stdin):  HOME<TAB>SESSION_ID<TAB>CHECKPOINT_EVERY<TAB>OUT_FILE
    server forks a writer; the writer opens the session and prints "ready", then adds entries
    and appends each id to OUT_FILE once `add_entry` returned (one write(2) per line)
    test -> server:          kill
    server kills the writer with SIGKILL, reaps it and prints "killed"

A writer that fails before "ready" prints its traceback on stderr and the server "failed".
The server holds no store, lock or open file of a session; it exits when its stdin closes.

Usage: python _writer_crash.py
"""

import os
import signal
import sys
import traceback
from pathlib import Path

from roundtable.store import LocalStore


def write(home: Path, session_id: str, every: int, out: str) -> None:
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    store = LocalStore(home, checkpoint_every=every)
    if os.environ.get("ROUNDTABLE_PASSPHRASE"):  # an encrypted session (test_crash_encrypted)
        store.ask_passphrase = lambda what: os.environ["ROUNDTABLE_PASSPHRASE"]
    with store.open_session(session_id) as ss:
        print("ready", flush=True)
        n = 0
        while True:
            entry = ss.add_entry("note", f"Crash trial note {n} " + "x" * (n % 300))
            os.write(fd, (entry.id + "\n").encode())
            n += 1


def main() -> None:
    for line in sys.stdin:
        home, session_id, every, out = line.rstrip("\n").split("\t")
        pid = os.fork()
        if pid == 0:  # the writer
            try:
                write(Path(home), session_id, int(every), out)
            except BaseException:
                traceback.print_exc()
                print("failed", flush=True)
            finally:
                os._exit(1)
        command = sys.stdin.readline().strip()
        if command == "kill":
            os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        print("killed", flush=True)


if __name__ == "__main__":
    main()
