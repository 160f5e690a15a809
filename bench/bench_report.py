"""The consolidated report with its chart (issue 23): 5,000 entries across the five regions.

Run: `python bench/bench_report.py [--entries N] [--runs R]`.  Prints Markdown.

Ten sessions (two per region) share the entries: all of needs, issues, actions and decisions,
each with two delegations of its region and one or two crime areas of the vocabulary (and one
tag of its own in twenty), priorities, owners and due dates.  Each figure is the CPU time
(``time.process_time``) of building the whole report — tree, SVG chart and rendering — the
median of R runs after a first run that reads the catalogs; wall time in brackets.  Target:
the HTML report with its chart <= 300 ms of CPU for 5,000 entries.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import record  # noqa: E402

AREAS = ("drugs", "cybercrime", "firearms", "trafficking-in-persons", "fraud", "maritime",
         "financial-crime", "child-abuse", "fugitives", "terrorism", "wildlife")  # fmt: skip


def snapshots(entries: int):
    from roundtable.model import AgendaItem, Attendance, Entry, Event, Session, SessionSnapshot
    from sessions import load_roster, plan_for_region

    roster = load_roster()
    names = {code: c.name for code, c in roster.items()}
    event = Event(id="ev", name="Report bench", starts="2026-11-24", tz="Europe/Paris")
    snaps = []
    regions = ("africa", "americas", "asia-pacific", "europe", "mena")
    per = entries // (2 * len(regions))
    for r, region in enumerate(regions):
        codes = sorted(code for code, c in roster.items() if c.region == region)
        plan = plan_for_region(region)
        for k in range(2):
            sid = f"s{r}{k}"
            agenda = [AgendaItem(id=f"{sid}-{n}", session_id=sid, position=n, title=i.title,
                                 minutes=i.minutes) for n, i in enumerate(plan.items)]  # fmt: skip
            items = []
            for n in range(per):
                kind = ("need", "issue", "action", "decision", "need")[n % 5]
                tags = [AREAS[n % len(AREAS)]] + ([AREAS[(n * 3) % len(AREAS)]] if n % 3 else [])
                if n % 20 == 0:
                    tags.append(f"own-tag-{n % 7}")
                items.append(Entry(
                    id=f"{sid}-e{n:05d}", session_id=sid, entry_kind=kind,
                    text=f"Cooperation need {n} of {region}: joint follow-up & shared data",
                    delegations=[codes[n % len(codes)], codes[(n * 7 + 3) % len(codes)]],
                    crime_areas=tags, priority=("high", "medium", "low", "")[n % 4],
                    agenda_item=agenda[n % len(agenda)].id,
                    owner=codes[n % len(codes)] if kind == "action" else "",
                    due=f"2026-12-{1 + n % 28:02d}" if kind == "action" else "",
                    status="open" if kind == "action" else "",
                    created_at=f"2026-11-25T{9 + n % 8:02d}:{n % 60:02d}:00+00:00",
                ))  # fmt: skip
            snaps.append(SessionSnapshot(
                event=event,
                session=Session(id=sid, event_id="ev", region=region, title=plan.title,
                                date="2026-11-25", number=k + 1),
                agenda=agenda,
                attendance=[Attendance(id=f"{sid}-{c}", session_id=sid, country=c,
                                       status="present") for c in codes[:20]],
                entries=items, speeches=[], countries=names,
            ))  # fmt: skip
    return event, snaps, roster


def timed(fn, runs: int) -> tuple[float, float]:
    cpu, wall = [], []
    for _ in range(runs):
        c0, w0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - w0) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    from roundtable.documents import report_csv, report_text

    event, snaps, roster = snapshots(args.entries)
    as_of = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)
    total = sum(len(s.entries) for s in snaps)
    print(f"A report over {total:,} entries in {len(snaps)} sessions of the five regions; "
          f"median of {args.runs} runs after a first one.\n")  # fmt: skip
    print(f"Load average before: {', '.join(f'{x:.2f}' for x in os.getloadavg())} on "
          f"{os.cpu_count()} cores. CPU time, wall time in brackets.\n")  # fmt: skip
    print("| language | HTML with the chart | Markdown | CSV | HTML size |")
    print("|---|---:|---:|---:|---:|")
    worst = 0.0
    for lang in ("en", "fr", "es", "ar"):

        def html(lang: str = lang) -> str:
            return report_text(event, snaps, roster, fmt="html", lang=lang, as_of=as_of)

        size = len(html().encode())  # the first run reads the catalog and CLDR
        h = timed(html, args.runs)

        def md(lang: str = lang) -> str:
            return report_text(event, snaps, roster, lang=lang, as_of=as_of)

        def table(lang: str = lang) -> str:
            return report_csv(snaps, roster, lang=lang)

        m = timed(md, args.runs)
        c = timed(table, args.runs)
        worst = max(worst, h[0])
        print(f"| {lang} | {h[0]:.0f} ms ({h[1]:.0f}) | {m[0]:.0f} ms ({m[1]:.0f}) | "
              f"{c[0]:.0f} ms ({c[1]:.0f}) | {size / 1024:.0f} KiB |")  # fmt: skip
    verdict = "met" if worst <= 300 else "NOT met"
    print(f"\nTarget: the HTML report with its chart <= 300 ms of CPU: {verdict} "
          f"(slowest language {worst:.0f} ms).")  # fmt: skip
    record("report", entries=total, html_cpu_ms=round(worst, 1), target_ms=300)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
