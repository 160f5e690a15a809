"""Issue 23, finding 7: the report at a glance and in spreadsheets.

The HTML report (and so the console's report page, which shows the same document) draws needs
by crime area × region as an SVG chart on the server side — no script, greyscale patterns and
a total at every bar — with the same numbers in a table beside it; ``roundtable report
--format csv`` gives one row per need, action and decision, cut to the audience.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from pathlib import Path

import pytest
from test_documents_golden import AS_OF, demo_snapshot

from roundtable import cli
from roundtable.documents import LANGUAGES, report_csv, report_text
from roundtable.documents.report import build_report_data, distinct
from roundtable.model import REGIONS
from sessions import load_roster

ROSTER = load_roster()


def expected_counts(snap) -> dict[str, int]:
    data = build_report_data(snap.event, [snap], ROSTER, AS_OF)
    return {a.area: len(a.items) for a in data.needs}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_html_report_draws_needs_by_crime_area_and_region(tmp_path: Path, lang: str) -> None:
    snap, _ = demo_snapshot(tmp_path)
    page = report_text(snap.event, [snap], ROSTER, fmt="html", lang=lang, as_of=AS_OF)
    assert "<script" not in page.lower()
    figure = page[page.index('<figure class="chart">') : page.index("</figure>")]
    svg = figure[figure.index("<svg") : figure.index("</svg>")]
    assert 'role="img"' in svg and "<title>" in svg
    assert svg.count("<pattern ") >= len(REGIONS)  # greyscale: a pattern per region
    totals = [int(t) for t in re.findall(r'font-weight="bold">(\d+)</text>', svg)]
    counts = expected_counts(snap)
    assert totals == list(counts.values())  # a total at every bar, in the report's order
    table = figure[figure.index("<table>") :]
    rows = re.findall(r"<tr>(.*?)</tr>", table)[1:]
    assert len(rows) == len(counts)
    for row, total in zip(rows, counts.values(), strict=True):
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)
        assert re.sub(r"<[^>]+>", "", cells[-1]) == str(total)
        assert sum(int(re.sub(r"<[^>]+>", "", c)) for c in cells[1:-1]) == total


def test_the_markdown_report_has_the_charts_numbers_as_a_table(tmp_path: Path) -> None:
    snap, _ = demo_snapshot(tmp_path)
    text = report_text(snap.event, [snap], ROSTER, as_of=AS_OF)
    assert "| Crime area | Africa | Americas | Asia & South Pacific | Europe |" in text
    assert "| cybercrime | 3 | 0 | 0 | 0 | 0 | **3** |" in text


def _rows(text: str) -> list[dict[str, str]]:
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def test_csv_has_one_row_per_need_action_and_decision(tmp_path: Path) -> None:
    snap, _ = demo_snapshot(tmp_path)
    rows = _rows(report_csv([snap], ROSTER))
    assert [r["kind"] for r in rows].count("need") == len(distinct(snap, "need"))
    assert [r["kind"] for r in rows].count("action") == len(distinct(snap, "action"))
    assert [r["kind"] for r in rows].count("decision") == len(distinct(snap, "decision"))
    first = next(r for r in rows if r["reference"] == "N1")
    assert first["region"] == "africa" and first["symbol"].startswith("RT/AFRICA/2026/")
    assert first["delegations"] == "ZM;ZW;MZ" and first["crime_areas"] == "vehicles"
    assert first["priority"] == "medium" and first["label"] == "TLP:AMBER"
    assert first["crime_area_names"] == "vehicle crime"


def test_csv_is_cut_to_the_audience_and_names_no_person_in_public(tmp_path: Path) -> None:
    snap, _ = demo_snapshot(tmp_path)
    entries = [replace(e, tlp="clear") if e.entry_kind == "action" else e for e in snap.entries]
    entries = [replace(e, owner="Insp. Q. Named") if e.owner == "region" else e for e in entries]
    snap = replace(snap, entries=entries)
    rows = _rows(report_csv([snap], ROSTER, audience="public", lang="fr"))
    assert rows and {r["kind"] for r in rows} == {"action"}
    assert {r["label"] for r in rows} == {"TLP:CLEAR"}
    assert "Insp. Q. Named" not in str(rows)
    assert any(r["owner"] == "(nommé dans la version des participants)" for r in rows)


def test_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    snap, _ = demo_snapshot(tmp_path)
    need = next(e for e in snap.entries if e.entry_kind == "need")
    snap = replace(snap, entries=[replace(need, text='=HYPERLINK("x")'), *snap.entries])
    rows = _rows(report_csv([snap], ROSTER))
    assert '\'=HYPERLINK("x")' in [r["text"] for r in rows]


def test_cli_report_format_csv(tmp_path: Path, monkeypatch, capsys) -> None:
    from roundtable.demo import create_demo
    from roundtable.store import LocalStore

    home = tmp_path / "home"
    monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
    monkeypatch.setenv("ROUNDTABLE_CONFIG", str(tmp_path / "s.toml"))
    create_demo(LocalStore(home), ROSTER)
    out = tmp_path / "report.csv"
    assert cli.main(["report", "--format", "csv", "--audience", "community", "-o", str(out)]) == 0
    rows = _rows(out.read_text(encoding="utf-8"))
    assert rows == []  # the demo's records are TLP:AMBER: nothing for the community
    assert cli.main(["report", "--format", "csv", "-o", str(tmp_path / "all.csv")]) == 0
    assert len(_rows((tmp_path / "all.csv").read_text(encoding="utf-8"))) > 20
    capsys.readouterr()
    assert cli.main(["report", "--format", "csv", "--for", "GH"]) != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--format csv" in err and "Traceback" not in err


def test_the_consoles_report_page_shows_the_chart(live_server) -> None:
    from test_console import seed, signed_in

    seeded = seed(live_server)
    with signed_in(seeded.server, seeded.all_token) as client:
        page = client.get("/report", params={"lang": "es"})
    assert page.status_code == 200
    assert "drawn by crime area and region" in page.text
    # the document sits in the page's srcdoc, escaped once more: the chart and its table
    assert "&lt;figure class=&#34;chart&#34;&gt;" in page.text
    assert "&lt;svg xmlns=" in page.text and "&lt;script" not in page.text
