"""Writer for the sync crash trials: captures and syncs in a loop, printing each entry id once
`add_entry` returned, and "synced N" after each round the server acknowledged.

Usage: python _crash_sync_writer.py HOME SESSION_ID URL TOKEN
"""

import asyncio
import sys
from pathlib import Path

from roundtable.store import LocalStore
from roundtable.sync import SyncClient


async def main() -> None:
    home, session_id, url, token = Path(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    store = LocalStore(home)
    ss = store.open_session(session_id)
    client = SyncClient(store, url, token, batch_size=20)
    print("ready", flush=True)
    n = 0
    while True:
        for _ in range(5):
            entry = ss.add_entry("need", f"Sync crash need {n}", delegations=["GH"])
            sys.stdout.write(entry.id + "\n")
            sys.stdout.flush()
            n += 1
        result = await client.sync_once()
        sys.stdout.write(f"synced {result.pushed}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
