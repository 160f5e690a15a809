"""Issue 23, finding 3: grammar by construction.

Counts take the language's plural forms (gettext's rules from CLDR: six in Arabic, three in
French and Spanish), and a country's name is always introduced by a noun ("Délégation : Brésil",
"délégations : Argentine et Brésil"), so it never needs an article or an agreement.  Checked
per language over every country of the roster and the counts 0, 1, 2, 3, 11 and 100.
"""

from __future__ import annotations

import re

import pytest
from test_documents import plural_boilerplate

from roundtable.documents import LANGUAGES, Version, brief_text, minutes_text
from roundtable.documents.common import minutes_word
from roundtable.documents.i18n import Lang, plural_catalog, plural_count, plural_index
from roundtable.documents.versions import DRAFT
from roundtable.model import (
    AgendaItem,
    Attendance,
    Entry,
    Event,
    Session,
    SessionSnapshot,
    Speech,
)
from sessions import load_roster

COUNTS = (0, 1, 2, 3, 11, 100)
ROSTER = load_roster()
NAMES = {code: c.name for code, c in ROSTER.items()}
PLACEHOLDER = re.compile(r"\{(\w+)\}")
# words that would make a country's name need an article or an agreement, if they came before it
BEFORE = {
    "fr": r"(?:de|du|des|d’|d'|par|à|au|aux|le|la|les|l’|l')",
    "es": r"(?:de|del|por|a|al|el|la|los|las|ninguno|ninguna)",
    "en": r"(?:XX)",
    "ar": r"(?:XX)",
}


@pytest.mark.parametrize("lang", ["fr", "es", "ar"])
def test_every_plural_string_has_the_languages_forms(lang: str) -> None:
    forms = plural_catalog(lang)
    assert plural_count(lang) == (6 if lang == "ar" else 3)
    for singular, plural in plural_boilerplate():
        found = forms.get(singular)
        assert found is not None and len(found) == plural_count(lang), (lang, singular)
        allowed = set(PLACEHOLDER.findall(singular)) | set(PLACEHOLDER.findall(plural))
        for form in found:
            assert set(PLACEHOLDER.findall(form)) <= allowed, (singular, form)
            assert set(PLACEHOLDER.findall(form)) >= allowed - {"n"}, (singular, form)


def test_arabic_counts_take_their_six_forms() -> None:
    L = Lang("ar")
    assert [plural_index("ar", n) for n in COUNTS] == [0, 1, 2, 3, 4, 5]
    assert [minutes_word(L, n * 60) for n in COUNTS] == [
        "0\u00a0دقيقة", "دقيقة واحدة", "دقيقتان", "3\u00a0دقائق", "11\u00a0دقيقة", "100\u00a0دقيقة"
    ]  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_count_reads_in_every_language(lang: str) -> None:
    L = Lang(lang)
    for singular, plural in plural_boilerplate():
        for n in COUNTS:
            values = {k: "X" for k in PLACEHOLDER.findall(singular) if k != "n"}
            out = L.tn(singular, plural, n, **values)
            assert "{" not in out and out.strip(), (singular, n)
            if n not in (1, 2):  # Arabic spells one and two in the noun's own form
                assert L.number(n) in out or "{n}" not in singular, (lang, singular, n, out)


def snapshot_of_every_country(region_codes: list[str]) -> SessionSnapshot:
    entries: list[Entry] = []
    speeches: list[Speech] = []
    for n, code in enumerate(region_codes):
        t = f"2026-11-25T09:{n % 60:02d}:{n // 60:02d}+00:00"
        other = region_codes[(n + 1) % len(region_codes)]
        entries += [
            Entry(id=f"n{n:03d}", entry_kind="note", text="Zzz reports", delegations=[code],
                  agenda_item="a1", created_at=t),
            Entry(id=f"i{n:03d}", entry_kind="issue", text="Zzz issue", delegations=[code],
                  agenda_item="a1", created_at=t),
            Entry(id=f"d{n:03d}", entry_kind="decision", text="Zzz decision",
                  delegations=[code, other], agenda_item="a1", created_at=t),
            Entry(id=f"a{n:03d}", entry_kind="action", text="Zzz action", owner=code,
                  delegations=[code], agenda_item="a1", created_at=t, status="open"),
        ]  # fmt: skip
        passed = COUNTS[n % len(COUNTS)]
        speeches.append(Speech(id=f"s{n:03d}", country=code, seconds=60, started_at=t))
        speeches += [
            Speech(id=f"p{n:03d}-{k}", country=code, passed=True, started_at=t)
            for k in range(passed)
        ]
    return SessionSnapshot(
        event=Event(id="ev", name="Conference"),
        session=Session(id="s1", event_id="ev", region="africa", title="Round table",
                        date="2026-11-25"),
        agenda=[AgendaItem(id="a1", title="Tour", minutes=COUNTS[len(region_codes) % 6])],
        attendance=[Attendance(id=f"t{c}", country=c, status="present") for c in region_codes],
        entries=entries,
        speeches=speeches,
        countries=NAMES,
    )  # fmt: skip


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_country_name_needs_an_article_or_an_agreement(lang: str) -> None:
    L = Lang(lang)
    before = re.compile(BEFORE[lang] + r"\s+$", re.IGNORECASE)
    for region in sorted({c.region for c in ROSTER.values()}):
        codes = sorted(code for code, c in ROSTER.items() if c.region == region)
        snap = snapshot_of_every_country(codes)
        texts = [minutes_text(snap, lang=lang, version=Version(DRAFT, 2), audience="room")]
        texts += [brief_text(codes[0], [snap], lang=lang, as_of=_as_of(), countries=NAMES)]
        names = sorted({L.country(code, NAMES) for code in codes}, key=len, reverse=True)
        for doc in texts:
            covered: set[int] = set()  # a name inside a longer one ("Congo") is that one's
            for name in names:
                for m in re.finditer(re.escape(name), doc):
                    if m.start() in covered:
                        continue
                    covered.update(range(m.start(), m.end()))
                    lead = doc[max(0, m.start() - 12) : m.start()]
                    assert not before.search(lead), (lang, name, doc[m.start() - 40 : m.end()])
        if lang == "fr":
            assert "Délégation\u00a0: " in texts[0]
            assert "**Conférence\u00a0:**" in texts[0]


def _as_of():
    import datetime as dt

    return dt.datetime(2026, 11, 26, 18, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize("lang", ["es"])
def test_the_cited_spanish_sentences(lang: str) -> None:
    L = Lang(lang)
    assert L.t("No statement was recorded.") == "No se registró ninguna declaración."
    assert "ninguno" not in L.t("No issue or need was recorded.")
    assert L.tn("raised by {names}", "raised by {names}", 2, names="A y B") == (
        "a iniciativa de las delegaciones: A y B"
    )
