"""The member roster and the session plans: data integrity, lookup, validation with locations."""

from __future__ import annotations

import collections
from pathlib import Path

import pytest

import sessions
from roundtable.model import AGENDA_KINDS, REGIONS, Country
from roundtable.store import LocalStore
from sessions import (
    Plan,
    PlanError,
    PlanItem,
    builtin_plans,
    countries_in,
    find_country,
    load_plan,
    load_roster,
    plan_for_region,
    user_plans,
)
from sessions.roster import RosterError, fold, parse_roster

# -- roster ------------------------------------------------------------------------------------


def test_roster_has_196_members_with_unique_codes_and_names() -> None:
    roster = load_roster()
    assert len(roster) == 196
    assert all(isinstance(c, Country) and code == c.code for code, c in roster.items())
    assert len({c.name for c in roster.values()}) == 196
    assert len({fold(c.name) for c in roster.values()}) == 196
    assert all(len(code) == 2 and code.isupper() for code in roster)


def test_every_region_has_a_plausible_count() -> None:
    counts = collections.Counter(c.region for c in load_roster().values())
    assert set(counts) == set(REGIONS)
    assert counts == {"africa": 47, "americas": 38, "asia-pacific": 37, "europe": 55, "mena": 19}


@pytest.mark.parametrize(
    ("code", "region"),
    [
        ("GH", "africa"),
        ("EG", "mena"),
        ("MA", "mena"),
        ("SD", "mena"),
        ("SA", "mena"),
        ("BR", "americas"),
        ("CW", "americas"),
        ("JM", "americas"),
        ("JP", "asia-pacific"),
        ("FJ", "asia-pacific"),
        ("PW", "asia-pacific"),
        ("TR", "europe"),
        ("KZ", "europe"),
        ("GE", "europe"),
        ("VA", "europe"),
        ("PS", "mena"),
    ],
)
def test_regions_follow_the_documented_rule(code: str, region: str) -> None:
    assert load_roster()[code].region == region


def test_non_members_are_absent() -> None:
    roster = load_roster()
    assert "KP" not in roster  # DPRK is not a member
    assert "TV" not in roster
    assert "XK" not in roster


def test_roster_is_cached() -> None:
    assert load_roster() is load_roster()


def test_countries_in_region_sorted_by_name_ignoring_accents() -> None:
    africa = countries_in("africa")
    assert len(africa) == 47
    assert all(c.region == "africa" for c in africa)
    names = [c.name for c in africa]
    assert names == sorted(names, key=fold)
    assert names.index("Côte d'Ivoire") < names.index("Djibouti")
    with pytest.raises(ValueError, match="unknown region 'antarctica'"):
        countries_in("antarctica")


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("GH", "GH"),
        ("gh", "GH"),
        (" Ghana ", "GH"),
        ("GHANA", "GH"),
        ("UK", "GB"),
        ("United Kingdom", "GB"),
        ("USA", "US"),
        ("usa", "US"),
        ("United States of America", "US"),
        ("Côte d'Ivoire", "CI"),
        ("cote d ivoire", "CI"),
        ("Ivory Coast", "CI"),
        ("Türkiye", "TR"),
        ("Turkey", "TR"),
        ("turkiye", "TR"),
        ("Sierra_Leone", "SL"),
        ("South Korea", "KR"),
        ("DRC", "CD"),
        ("Vietnam", "VN"),
        ("Curacao", "CW"),
        ("São Tomé and Príncipe", "ST"),
    ],
)
def test_find_country_by_code_name_or_alias(text: str, code: str) -> None:
    found = find_country(text)
    assert found is not None and found.code == code


@pytest.mark.parametrize("text", ["", "XX", "Atlantis", "Gha", "Kosovo", "North Korea"])
def test_find_country_unknown_is_none(text: str) -> None:
    assert find_country(text) is None


@pytest.mark.parametrize(
    ("csv_text", "message"),
    [
        ("code,name\nGH,Ghana\n", "countries.csv:1: expected header"),
        ("code,name,region,aliases\nGH,Ghana,africa\n", "countries.csv:2: expected 4 fields"),
        ("code,name,region,aliases\nGHA,Ghana,africa,\n", "countries.csv:2: code: expected two"),
        ("code,name,region,aliases\nGH,Ghana,africa,\nGH,Gana,africa,\n", ":3: code: GH appears"),
        ("code,name,region,aliases\nGH,Ghana,africa,\nGA,ghana,africa,\n", ":3: name: 'ghana'"),
        ("code,name,region,aliases\nGH,Ghana,oceania,\n", ":2: region: 'oceania' is not"),
        ("code,name,region,aliases\nGH,,africa,\n", ":2: name: empty"),
        (
            "code,name,region,aliases\nGH,Ghana,africa,Togo\nTG,Togo,africa,\n",
            "alias 'Togo' of GH is the name of TG",
        ),
    ],
)
def test_bad_roster_data_is_reported_with_its_line(csv_text: str, message: str) -> None:
    with pytest.raises(RosterError) as info:
        parse_roster(csv_text)
    assert message in str(info.value)


# -- built-in plans ------------------------------------------------------------------------------


def test_one_builtin_plan_per_region() -> None:
    plans = builtin_plans()
    assert set(plans) == set(REGIONS)
    for region, plan in plans.items():
        assert plan.region == region
        assert plan.source == "built-in"
        kinds = [i.kind for i in plan.items]
        assert kinds[0] == "opening" and kinds[-1] == "close"
        assert kinds.count("tour") == 1 and kinds.count("needs") == 1
        assert kinds.count("actions") == 1
        assert 2 <= kinds.count("discussion") <= 3
        assert 30 <= plan.tour_seconds <= 300
        for item in plan.items:
            assert item.kind in AGENDA_KINDS
            assert 2 <= len(item.prompts) <= 4, item.title
            assert all(p.endswith(("?", ".")) for p in item.prompts)
        assert 120 <= plan.total_minutes <= 240


def test_plan_for_region_and_unknown_region() -> None:
    assert plan_for_region("americas").title == "Americas Regional Round Table"
    with pytest.raises(PlanError, match="no built-in plan for region 'oceania'"):
        plan_for_region("oceania")


def test_africa_plan_matches_the_demo_positions() -> None:
    titles = [i.title for i in plan_for_region("africa").items]
    assert "Drug trafficking" in titles[2] and "Cybercrime" in titles[3]
    assert "Firearms" in titles[4]


def test_to_agenda_creates_a_session_in_a_real_store(tmp_path: Path) -> None:
    plan = plan_for_region("europe")
    agenda = plan.to_agenda()
    assert agenda[1] == {
        "title": plan.items[1].title,
        "minutes": plan.items[1].minutes,
        "prompts": list(plan.items[1].prompts),
        "item_kind": "tour",
    }
    store = LocalStore(tmp_path / "home")
    event = store.create_event("Conference")
    session = store.create_session(event.id, plan.region, plan.title, agenda, plan=plan.name)
    with store.open_session(session.id) as ss:
        items = ss.records("agenda_item")
    assert [(i.title, i.minutes, i.item_kind, i.prompts) for i in items] == [
        (p.title, p.minutes, p.kind, list(p.prompts)) for p in plan.items
    ]


def test_plan_dataclasses_are_frozen() -> None:
    plan = plan_for_region("mena")
    with pytest.raises(AttributeError):
        plan.title = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        plan.items[0].minutes = 1  # type: ignore[misc]
    assert isinstance(plan, Plan) and isinstance(plan.items[0], PlanItem)


# -- user plans and validation --------------------------------------------------------------------

GOOD = """\
name = "my-plan"
region = "africa"
title = "Short round table"

[tour]
seconds_per_delegation = 90

[[items]]
title = "Opening"
minutes = 5
kind = "opening"
prompts = ["Welcome everyone."]

[[items]]
title = "Tour"
minutes = 30
kind = "tour"
prompts = ["What happened?", "What do you need?"]

[[items]]
title = "Close"
minutes = 5
kind = "close"
"""


def write(tmp_path: Path, text: str, name: str = "myplan.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_a_good_plan(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    plan = load_plan(path)
    assert plan == Plan(
        name="my-plan",
        region="africa",
        title="Short round table",
        tour_seconds=90,
        items=(
            PlanItem("Opening", 5, "opening", ("Welcome everyone.",)),
            PlanItem("Tour", 30, "tour", ("What happened?", "What do you need?")),
            PlanItem("Close", 5, "close", ()),
        ),
        source=str(path),
    )


def test_tour_table_is_optional(tmp_path: Path) -> None:
    text = GOOD.replace("[tour]\nseconds_per_delegation = 90\n", "")
    assert load_plan(write(tmp_path, text)).tour_seconds == 120


def _replace_line(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "minutes = 30",
            'minutes = "ten"',
            "myplan.toml:16: items[2].minutes: expected a whole number of minutes 1-240, got 'ten'",
        ),
        ("minutes = 30", "minutes = 0", "myplan.toml:16: items[2].minutes: expected"),
        ("minutes = 30", "minutes = 241", ":16: items[2].minutes: expected"),
        ("minutes = 30", "minutes = 12.5", ":16: items[2].minutes: expected a whole number"),
        ("minutes = 30", "minutes = true", ":16: items[2].minutes:"),
        (
            'kind = "tour"',
            'kind = "debate"',
            "myplan.toml:17: items[2].kind: expected one of opening, discussion, tour, needs, "
            "actions, close, got 'debate'",
        ),
        ('title = "Tour"', 'title = "  "', ":15: items[2].title: expected a non-empty text"),
        ('title = "Tour"', 'title = "opening"', ":15: items[2].title: 'opening' is also the title"),
        ('title = "Tour"\n', 'title = "Tour"\nspeaker = "x"\n', ":16: items[2].speaker: unknown"),
        ('title = "Tour"\nminutes = 30\n', 'title = "Tour"\n', ":14: items[2].minutes: missing"),
        (
            'prompts = ["What happened?", "What do you need?"]',
            'prompts = "What happened?"',
            ":18: items[2].prompts: expected a list of texts",
        ),
        (
            'prompts = ["What happened?", "What do you need?"]',
            'prompts = ["What happened?", ""]',
            ":18: items[2].prompts[2]: expected a non-empty text",
        ),
        ('region = "africa"', 'region = "oceania"', "myplan.toml:2: region: expected one of"),
        ('name = "my-plan"', 'name = "My Plan!"', "myplan.toml:1: name: expected lower-case"),
        ('title = "Short round table"', "title = 3", "myplan.toml:3: title: expected a non-empty"),
        ('name = "my-plan"\n', "", "myplan.toml:1: name: missing"),
        ('name = "my-plan"\n', 'name = "my-plan"\nowner = "me"\n', "myplan.toml:2: owner: unknown"),
        (
            "seconds_per_delegation = 90",
            "seconds_per_delegation = 5",
            "myplan.toml:6: tour.seconds_per_delegation: expected a whole number of seconds",
        ),
        (
            "seconds_per_delegation = 90",
            "seconds = 90",
            "myplan.toml:6: tour.seconds: unknown key",
        ),
        ("minutes = 30\n", "minutes = 30\nminutes = 31\n", "myplan.toml:17: TOML syntax:"),
        ('kind = "tour"', "kind = tour", "myplan.toml:17: TOML syntax:"),
    ],
)
def test_plan_errors_name_file_line_and_field(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    path = write(tmp_path, _replace_line(GOOD, old, new))
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert expected in message
    assert message.startswith(str(path))
    assert "\n" not in message


def test_plan_without_items(tmp_path: Path) -> None:
    text = "items = []\n" + GOOD.split("[[items]]")[0]
    with pytest.raises(PlanError, match=r"myplan.toml:1: items: expected at least one"):
        load_plan(write(tmp_path, text))
    text = GOOD.split("[[items]]")[0]
    with pytest.raises(PlanError, match="myplan.toml:1: items: missing"):
        load_plan(write(tmp_path, text))


def test_unreadable_and_non_utf8_plans(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="missing.toml: cannot read"):
        load_plan(tmp_path / "missing.toml")
    path = tmp_path / "latin.toml"
    path.write_bytes(b'name = "x"\ntitle = "caf\xe9"\n')
    with pytest.raises(PlanError, match="latin.toml:2: not UTF-8 text"):
        load_plan(path)


def test_user_plans_reports_bad_files_without_failing(tmp_path: Path) -> None:
    plans_dir = tmp_path / "plans"
    plans_dir.mkdir()
    write(plans_dir, GOOD, "a-good.toml")
    write(plans_dir, GOOD.replace('region = "africa"', 'region = "europe"'), "b-good.toml")
    write(plans_dir, GOOD.replace("minutes = 30", "minutes = -1"), "c-bad.toml")
    write(plans_dir, "not toml at all", "d-broken.toml")
    write(plans_dir, "ignored", "notes.txt")
    plans, errors = user_plans(plans_dir)
    assert [(p.region, Path(p.source).name) for p in plans] == [
        ("africa", "a-good.toml"),
        ("europe", "b-good.toml"),
    ]
    assert len(errors) == 2
    assert "c-bad.toml:16: items[2].minutes" in errors[0]
    assert "d-broken.toml:1: TOML syntax" in errors[1]


def test_user_plans_missing_directory_is_empty(tmp_path: Path) -> None:
    assert user_plans(tmp_path / "nowhere") == ([], [])


def test_package_exports() -> None:
    for name in (
        "load_roster",
        "countries_in",
        "find_country",
        "plan_for_region",
        "builtin_plans",
        "load_plan",
        "user_plans",
        "PlanError",
    ):
        assert hasattr(sessions, name), name
    assert issubclass(PlanError, ValueError)
