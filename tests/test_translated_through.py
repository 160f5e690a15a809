"""Issue 23, finding 2: documents translated through.

The built-in plans give every title and prompt in English, French, Spanish and Arabic (the plan
format's ``titles`` and ``[items.<lang>]`` tables, optional, so older plans load as before);
crime areas are a controlled vocabulary with labels in the four languages, and a tag of one's
own stays as typed.  The minutes, briefs and report show them in the document's language.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from test_documents_golden import AS_OF, demo_snapshot

from roundtable.demo import CAPTURES
from roundtable.documents import brief_text, minutes_text, report_text
from roundtable.documents.i18n import Lang
from sessions import PlanError, builtin_plans, load_plan, load_roster, parse_plan
from sessions.crime_areas import ALIASES, TERMS, label, term

OTHERS = ("fr", "es", "ar")


def _arabic(text: str) -> bool:
    return any("ARABIC" in unicodedata.name(ch, "") for ch in text)


def plan_strings():
    for plan in builtin_plans().values():
        yield plan.name, "title", plan.title, dict(plan.titles)
        for n, item in enumerate(plan.items, start=1):
            forms = {lang: title for lang, title, _ in item.translations}
            yield plan.name, f"items[{n}].title", item.title, forms
            for k, prompt in enumerate(item.prompts):
                forms = {lang: prompts[k] for lang, _, prompts in item.translations if prompts}
                yield plan.name, f"items[{n}].prompts[{k + 1}]", prompt, forms


def test_every_plan_string_is_in_every_language() -> None:
    count = 0
    for plan in builtin_plans().values():
        assert plan.languages == ("en", "fr", "es", "ar"), plan.name
    for name, where, english, forms in plan_strings():
        count += 1
        assert set(forms) == set(OTHERS), (name, where)
        for lang, value in forms.items():
            assert value.strip() and value != english, (name, where, lang)
            assert _arabic(value) == (lang == "ar"), (name, where, lang, value)
        # the same English string is translated the same way in every plan
    seen: dict[str, dict[str, str]] = {}
    for _, where, english, forms in plan_strings():
        assert seen.setdefault(english, forms) == forms, where
    assert count > 140


def test_every_vocabulary_term_has_its_four_labels() -> None:
    for key, labels in TERMS.items():
        assert set(labels) == {"en", "fr", "es", "ar"}, key
        assert all(v.strip() for v in labels.values()), key
        assert _arabic(labels["ar"]) and not _arabic(labels["fr"]), key
        assert term(key) == key and term(key.upper()) == key
    assert all(target in TERMS for target in ALIASES.values())


def test_the_demos_tags_are_in_the_vocabulary() -> None:
    tags = {t for _, line in CAPTURES for t in re.findall(r"#([\w-]+)", line)}
    assert tags and all(term(t) for t in tags), [t for t in tags if not term(t)]


def test_an_unknown_tag_stays_as_typed() -> None:
    assert label("port-security-2026", "fr") == "port-security-2026"
    assert label("trafficking-in-persons", "fr") == "traite des personnes"
    assert label("trafficking", "es") == "trata de personas"


@pytest.mark.parametrize("lang", OTHERS)
def test_documents_show_plan_titles_and_crime_areas_in_their_language(
    tmp_path: Path, lang: str
) -> None:
    snap, conflicts = demo_snapshot(tmp_path)
    plan = builtin_plans()["africa"]
    roster = load_roster()
    names = {code: c.name for code, c in roster.items()}
    docs = {
        "minutes": minutes_text(snap, lang=lang, conflicts=conflicts),
        "brief": brief_text("GH", [snap], lang=lang, as_of=AS_OF, countries=names),
        "report": report_text(snap.event, [snap], roster, lang=lang, as_of=AS_OF),
    }
    for fmt_doc in docs.values():
        assert plan.title_in(lang) in fmt_doc
        assert plan.title not in fmt_doc
    for item in plan.items:
        assert item.title_in(lang) in docs["minutes"]
        assert item.title not in docs["minutes"]
    L = Lang(lang)
    prefix = L.t("crime areas: {areas}", areas="")
    labels = {v[lang] for v in TERMS.values()}
    for name in ("minutes", "brief"):
        shown = [m.split("\n")[0] for m in docs[name].split(prefix)[1:]]
        assert shown, name
        for areas in shown:
            listed = areas.split(L.semicolon.strip())[0].split(" — ")[0].strip()
            assert set(listed.split(L.comma)) <= labels, listed
    headings = re.findall(r"^### \d+\. (.*)$", docs["report"], re.MULTILINE)
    assert headings and set(headings) <= labels | {L.t("no crime area given")}, headings
    assert label("cybercrime", lang) in docs["minutes"]
    assert label("cybercrime", lang) in docs["report"]


def test_an_edited_title_and_an_unknown_tag_stay_as_typed(tmp_path: Path) -> None:
    from dataclasses import replace

    snap, _ = demo_snapshot(tmp_path)
    agenda = [replace(snap.agenda[0], title="Opening, with the host's welcome")]
    entries = [
        replace(e, crime_areas=["port-security-2026"]) if e.entry_kind == "issue" else e
        for e in snap.entries
    ]
    snap = replace(snap, agenda=agenda + snap.agenda[1:], entries=entries)
    doc = minutes_text(snap, lang="fr")
    assert "Opening, with the host's welcome" in doc or "Opening, with the host&#x27;s" in doc
    assert "port-security-2026" in doc


PLAN = """name = "mine"
region = "europe"
title = "Our round table"
{titles}

[[items]]
title = "Opening"
minutes = 10
kind = "opening"
prompts = ["Welcome everyone."]
{extra}
"""


def test_a_plan_without_translations_loads_as_before() -> None:
    plan = parse_plan(PLAN.format(titles="", extra=""), "mine.toml")
    assert plan.title_in("fr") == "Our round table"
    assert plan.items[0].title_in("ar") == "Opening"
    assert plan.items[0].prompts_in("es") == ("Welcome everyone.",)
    assert plan.languages == ("en",)
    assert plan.to_agenda()[0]["title"] == "Opening"


def test_a_plan_with_translations() -> None:
    plan = parse_plan(
        PLAN.format(
            titles='titles = { fr = "Notre table ronde" }',
            extra='[items.fr]\ntitle = "Ouverture"\nprompts = ["Bienvenue à tous."]\n',
        ),
        "mine.toml",
    )
    assert plan.title_in("fr") == "Notre table ronde"
    assert plan.items[0].title_in("fr") == "Ouverture"
    assert plan.items[0].prompts_in("fr") == ("Bienvenue à tous.",)
    assert plan.languages == ("en", "fr")


@pytest.mark.parametrize(
    ("titles", "extra", "expected"),
    [
        ('titles = { de = "Runder Tisch" }', "", "mine.toml:4: titles.de: unknown language"),
        ('titles = "x"', "", "mine.toml:4: titles: expected a table of languages"),
        ("", '[items.fr]\nprompts = ["Bienvenue."]\n', "mine.toml:11: items[1].fr.title: missing"),
        ("", '[items.fr]\ntitle = "Ouverture"\nprompts = ["a", "b"]\n',
         "mine.toml:11: items[1].fr.prompts: 2 prompts for the item's 1"),
        ("", '[items.es]\ntitle = "Apertura"\nnotes = "x"\n',
         "mine.toml:11: items[1].es.notes: unknown key"),
        ("", '[items.ar]\ntitle = ""\n', "mine.toml:11: items[1].ar.title: expected a non-empty"),
    ],
)  # fmt: skip
def test_a_bad_translation_is_one_precise_line(
    tmp_path: Path, titles: str, extra: str, expected: str
) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(PLAN.format(titles=titles, extra=extra), encoding="utf-8")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert "\n" not in message
    assert message.replace(str(tmp_path) + "/", "").startswith(expected), message
