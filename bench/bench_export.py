"""Export of a 1,000-entry session: minutes as Markdown and HTML, in each language.

Run: `python bench/bench_export.py [--entries N] [--runs R]`.  Prints Markdown.

The session is written through the store as in use (all five kinds, delegations, tags, owners,
due dates, 20 delegations present), then read as one snapshot.  Each figure is the median of R
builds of the whole document, tree and rendering included; the first build of a language also
reads its catalog and Babel's CLDR data, timed apart.  Targets: Markdown <= 100 ms, HTML <=
300 ms.  Then a brief and the consolidated report of the same session.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _figures import record  # noqa: E402

PRESENT = ["GH", "NG", "KE", "ZA", "SN", "CI", "CM", "ET", "TZ", "UG",
           "ZM", "ZW", "RW", "BJ", "TG", "ML", "NE", "BF", "AO", "MZ"]  # fmt: skip


def build_session(base: Path, entries: int):
    from roundtable.store import LocalStore
    from sessions import load_roster, plan_for_region

    roster = load_roster()
    store = LocalStore(base)
    event = store.create_event("Export bench")
    plan = plan_for_region("africa")
    session = store.create_session(event.id, "africa", plan.title, plan.to_agenda(),
                                   date="2026-11-25", room="Room 1")  # fmt: skip
    with store.open_session(session.id) as ss:
        for code in PRESENT:
            ss.set_attendance(code, "present", [f"Delegate of {code}"])
        items = ss.records("agenda_item")
        for n in range(entries):
            kind = ("issue", "need", "action", "decision", "note")[n % 5]
            who = [PRESENT[n % 20], PRESENT[(n * 7 + 3) % 20]]
            fields = {
                "entry_kind": kind,
                "text": f"Cross-border cooperation on case {n}: shared data & joint follow-up",
                "delegations": who,
                "crime_areas": [("drugs", "cybercrime", "firearms", "trafficking")[n % 4]],
                "priority": ("high", "medium", "low", "")[n % 4] if kind != "note" else "",
                "agenda_item": items[n % len(items)].id,
            }
            if kind == "action":
                fields |= {"owner": who[0], "due": f"2026-12-{1 + n % 28:02d}"}
            ss.add_entry(**fields)
        snap = ss.snapshot({code: c.name for code, c in roster.items()})
    return snap, roster


def median_ms(fn, runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process, in ms.  On a shared machine the
    wall time includes waiting for a core; the CPU time is the export's own cost."""
    wall, cpu = [], []
    for _ in range(runs):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append((time.perf_counter() - t0) * 1000)
        cpu.append((time.process_time() - c0) * 1000)
    return statistics.median(wall), statistics.median(cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    from roundtable.documents import LANGUAGES, brief_text, minutes_text, report_text

    base = Path(tempfile.mkdtemp(prefix="rt-bench-export-"))
    try:
        snap, roster = build_session(base / "home", args.entries)
        as_of = dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)
        print(f"A session of {len(snap.entries):,} entries and {len(snap.attendance)} "
              f"delegations; median of {args.runs} builds (tree and rendering).")  # fmt: skip
        print()
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"Load average before: {load} on {os.cpu_count()} cores. Each time is CPU time "
            "(wall time in brackets: on a shared machine it includes waiting for a core)."
        )
        print()
        print("| language | first build (catalog + CLDR) | Markdown | HTML | Markdown size "
              "| HTML size |")  # fmt: skip
        print("|---|---:|---:|---:|---:|---:|")
        worst = {"md": 0.0, "html": 0.0}
        for lang in LANGUAGES:
            c0 = time.process_time()
            minutes_text(snap, lang=lang)
            first = (time.process_time() - c0) * 1000
            md_wall, md = median_ms(lambda lang=lang: minutes_text(snap, fmt="md", lang=lang),
                                    args.runs)  # fmt: skip
            html_wall, html = median_ms(
                lambda lang=lang: minutes_text(snap, fmt="html", lang=lang), args.runs
            )
            worst["md"], worst["html"] = max(worst["md"], md), max(worst["html"], html)
            size_md = len(minutes_text(snap, fmt="md", lang=lang).encode())
            size_html = len(minutes_text(snap, fmt="html", lang=lang).encode())
            print(
                f"| {lang} | {first:.0f} ms | {md:.1f} ms ({md_wall:.0f}) | {html:.1f} ms "
                f"({html_wall:.0f}) | {size_md / 1024:.0f} KiB | {size_html / 1024:.0f} KiB |"
            )
        names = {code: c.name for code, c in roster.items()}
        _, brief = median_ms(lambda: brief_text("GH", [snap], fmt="html", as_of=as_of,
                                             countries=names), args.runs)  # fmt: skip
        _, report = median_ms(lambda: report_text(snap.event, [snap], roster, fmt="html",
                                               as_of=as_of), args.runs)  # fmt: skip
        print()
        print(f"Brief of one delegation (HTML): {brief:.1f} ms; consolidated report (HTML): "
              f"{report:.1f} ms.")  # fmt: skip
        print()
        print(
            f"Targets (CPU time): Markdown <= 100 ms: {'met' if worst['md'] <= 100 else 'NOT met'} "
            f"(slowest language {worst['md']:.1f} ms); HTML <= 300 ms: "
            f"{'met' if worst['html'] <= 300 else 'NOT met'} (slowest {worst['html']:.1f} ms)."
        )
        record("export", entries=len(snap.entries), markdown_ms=round(worst["md"], 1),
               html_ms=round(worst["html"], 1))  # fmt: skip
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
