"""Actions carried forward (issue 12): how long the secretariat's route takes to answer, and the
run screen's recompute on each change of the review item, with many earlier actions.

Three earlier conferences of one region, each a session of ``--actions`` actions (plus as many
notes), half of them reviewed at the next conference; the route is asked through a real
uvicorn on 127.0.0.1.

    .venv/bin/python bench/bench_carried.py [--actions 700]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from roundtable import actions, carry  # noqa: E402
from roundtable.store import LocalStore  # noqa: E402
from roundtable.sync import SyncClient  # noqa: E402

AGENDA = [{"title": "Review of action items", "item_kind": "actions"}]


def serve(db: Path):
    import uvicorn

    from roundtable.secretariat import create_app

    config = uvicorn.Config(create_app(db), host="127.0.0.1", port=0, log_level="warning",
                            lifespan="off", access_log=False)  # fmt: skip
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.01)
    return server, f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--actions", type=int, default=700, help="actions per conference")
    n = parser.parse_args().actions
    from roundtable.secretariat import create_event, issue_token

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        db = root / "secretariat.db"
        server, url = serve(db)
        laptop = LocalStore(root / "laptop")
        events = []
        for year in (2023, 2024, 2025, 2026):
            event = create_event(db, f"Conference {year}")
            token = issue_token(db, event, ["europe"])
            asyncio.run(SyncClient(laptop, url, token).sync_once())
            session = laptop.create_session(event, "europe", f"Europe {year}", AGENDA)
            if year < 2026:
                with laptop.open_session(session.id) as ss:
                    for i in range(n):
                        ss.add_entry("action", f"Action {i} of {year}", owner="DE")
                        ss.add_entry("note", f"Note {i} of {year}")
            if events:  # review half of the previous conference's actions
                found, _ = asyncio.run(carry.find(laptop, "europe", event))
                with laptop.open_session(session.id) as ss:
                    for a in [a for a in found.actions if a.event_id == events[-1]][: n // 2]:
                        ss.review_action(a, "carried", "next year")
            asyncio.run(SyncClient(laptop, url, token).sync_once())
            events.append(event)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            remote = asyncio.run(carry.fetch(url, token, "europe", events[-1]))
            times.append((time.perf_counter() - start) * 1000)
        route_ms = statistics.median(times)
        sources = carry.local_sources(laptop, "europe", events[-1])
        recompute = []
        for _ in range(5):
            start = time.perf_counter()
            actions.carried_actions(sources, "europe", events[-1], known=remote)
            recompute.append((time.perf_counter() - start) * 1000)
        server.should_exit = True
        print("| earlier actions | reviews | route median (ms) | screen recompute median (ms) |")
        print("|---|---|---|---|")
        reviews = sum(len(s.reviews) for s in sources)
        print(f"| {len(remote):,} | {reviews:,} | {route_ms:.0f} | "
              f"{statistics.median(recompute):.1f} |")  # fmt: skip


if __name__ == "__main__":
    main()
