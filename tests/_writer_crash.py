"""Writer for the crash test: adds entries in a loop and prints each id once `add` returned.

Usage: python _writer_crash.py HOME SESSION_ID CHECKPOINT_EVERY
"""

import os
import sys
from pathlib import Path

from roundtable.store import LocalStore


def main() -> None:
    home, session_id, every = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    store = LocalStore(home, checkpoint_every=every)
    if os.environ.get("ROUNDTABLE_PASSPHRASE"):  # an encrypted session (test_crash_encrypted)
        store.ask_passphrase = lambda what: os.environ["ROUNDTABLE_PASSPHRASE"]
    with store.open_session(session_id) as ss:
        print("ready", flush=True)
        n = 0
        while True:
            entry = ss.add_entry("note", f"Crash trial note {n} " + "x" * (n % 300))
            sys.stdout.write(entry.id + "\n")
            sys.stdout.flush()
            n += 1


if __name__ == "__main__":
    main()
