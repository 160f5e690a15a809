"""The quick-capture grammar: every kind, every error with its column, round trips, unicode."""

from __future__ import annotations

import datetime as dt
import string

import pytest
from budget import count
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from roundtable.capture import (
    GRAMMAR_HELP,
    MAX_LINE,
    MAX_TEXT,
    Captured,
    CaptureError,
    format_captured,
    parse_line,
)
from roundtable.demo import CAPTURES
from roundtable.model import ENTRY_KINDS, PRIORITIES, TLP_LABELS, Country
from sessions import load_roster

TODAY = dt.date(2026, 11, 25)
ROSTER = load_roster()
EXAMPLES = count(300, "ROUNDTABLE_HYPOTHESIS_EXAMPLES")


def parse(line: str) -> Captured:
    return parse_line(line, ROSTER, today=TODAY)


def error(line: str) -> CaptureError:
    with pytest.raises(CaptureError) as info:
        parse(line)
    return info.value


# -- valid lines -------------------------------------------------------------------------------


def test_issue_with_delegations_tags_and_priority() -> None:
    c = parse("/issue Synthetic drug routes via West African ports @GH @NG #drugs !high")
    assert c == Captured(
        entry_kind="issue",
        text="Synthetic drug routes via West African ports",
        delegations=("GH", "NG"),
        crime_areas=("drugs",),
        priority="high",
    )


def test_need_with_tokens_in_the_middle() -> None:
    c = parse("/need Training on @ZM cyber forensics !h for bureau staff #CyberCrime")
    assert c.entry_kind == "need"
    assert c.text == "Training on cyber forensics for bureau staff"
    assert c.delegations == ("ZM",)
    assert c.crime_areas == ("cybercrime",)
    assert c.priority == "high"


def test_action_with_owner_and_absolute_due() -> None:
    c = parse("/action Share border-crossing watch list  owner:@JO  due:2026-12-15")
    assert (c.entry_kind, c.text, c.owner, c.due) == (
        "action",
        "Share border-crossing watch list",
        "JO",
        "2026-12-15",
    )


@pytest.mark.parametrize(
    ("token", "expected"),
    [("due:+7d", "2026-12-02"), ("due:+2w", "2026-12-09"), ("due:+0d", "2026-11-25")],
)
def test_relative_due_dates_count_from_today(token: str, expected: str) -> None:
    assert parse(f"/a Send the list {token}").due == expected


def test_past_due_date_is_allowed() -> None:
    assert parse("/a Late report due:2020-01-31").due == "2020-01-31"


@pytest.mark.parametrize(
    ("token", "owner"),
    [
        ("owner:@GH", "GH"),
        ("owner:@gh", "GH"),
        ("owner:@Ghana", "GH"),
        ("owner:Ghana", "GH"),
        ('owner:@"Sierra Leone"', "SL"),
        ("owner:region", "region"),
        ("owner:Region", "region"),
        ('owner:"Drugs unit"', "Drugs unit"),
        ('owner:"Crimes against  children unit"', "Crimes against children unit"),
        ('owner:"The \\"A\\" team"', 'The "A" team'),
    ],
)
def test_owner_forms(token: str, owner: str) -> None:
    assert parse(f"/action Follow up {token}").owner == owner


@pytest.mark.parametrize(
    ("prefix", "kind", "parked"),
    [
        ("/issue", "issue", False),
        ("/i", "issue", False),
        ("/need", "need", False),
        ("/n", "need", False),
        ("/action", "action", False),
        ("/a", "action", False),
        ("/decide", "decision", False),
        ("/decision", "decision", False),
        ("/d", "decision", False),
        ("/note", "note", False),
        ("/park", "note", True),
        ("/ISSUE", "issue", False),
    ],
)
def test_every_prefix(prefix: str, kind: str, parked: bool) -> None:
    c = parse(f"{prefix} Something was said @KE")
    assert (c.entry_kind, c.parked, c.text, c.delegations) == (
        kind,
        parked,
        "Something was said",
        ("KE",),
    )


def test_plain_text_is_a_note() -> None:
    c = parse("  Facilitator welcomed   the heads of bureau  ")
    assert c == Captured(entry_kind="note", text="Facilitator welcomed the heads of bureau")


@pytest.mark.parametrize(
    ("token", "code"),
    [
        ("@GH", "GH"),
        ("@gh", "GH"),
        ("@Ghana", "GH"),
        ("@GHANA", "GH"),
        ("@Sierra_Leone", "SL"),
        ('@"Sierra Leone"', "SL"),
        ("@Côte_d'Ivoire", "CI"),
        ("@Cote_d'Ivoire", "CI"),
        ("@Ivory_Coast", "CI"),
        ("@UK", "GB"),
        ("@USA", "US"),
        ("@Turkey", "TR"),
        ("@Türkiye", "TR"),
        ("@Guinea-Bissau", "GW"),
        ("@GH,", "GH"),
    ],
)
def test_delegation_forms(token: str, code: str) -> None:
    assert parse(f"/note Statement {token} today").delegations == (code,)


def test_delegations_keep_order_without_duplicates() -> None:
    c = parse("/issue Routes @NG @GH @Ghana @ng @SN #drugs #Drugs #drugs")
    assert c.delegations == ("NG", "GH", "SN")
    assert c.crime_areas == ("drugs",)


@pytest.mark.parametrize(
    ("token", "tag"),
    [
        ("#child-abuse", "child-abuse"),
        ("#Child_Abuse", "child-abuse"),
        ("#financial--crime-", "financial-crime"),
        ("#drugs.", "drugs"),
        ("#cybercriminalité", "cybercriminalité"),
    ],
)
def test_tags_are_lower_kebab_case(token: str, tag: str) -> None:
    assert parse(f"/issue Threat {token}").crime_areas == (tag,)


@pytest.mark.parametrize(
    "line",
    [
        "Write to ncb@example.org about case No. #5",
        "A 30 % rise in requests, 24/7 desk, 4,000 firearms",
        "Meeting @ 5 pm, score 10/10 ! really #1 ## @@",
        "The word owner: alone and due: alone stay text",
        "e-mail C:\\path and a\\b",
    ],
)
def test_token_characters_inside_words_stay_text(line: str) -> None:
    c = parse(line)
    assert c.text == " ".join(line.split())
    assert (c.delegations, c.crime_areas, c.priority, c.owner, c.due) == ((), (), "", "", "")


def test_backslash_escapes_keep_tokens_as_text() -> None:
    c = parse(r"\/etc \@home \#hashtag \!wow \owner:me \due:soon \\@x \/need /etc")
    assert c.entry_kind == "note"
    assert c.text == r"/etc @home #hashtag !wow owner:me due:soon \@x /need /etc"
    assert format_captured(c, ROSTER) == (
        r"/note /etc \@home \#hashtag \!wow \owner:me \due:soon \\@x \/need /etc"
    )
    assert c.delegations == ()


def test_unicode_text_arabic_cjk_emoji() -> None:
    line = "/issue تهريب المخدرات عبر الموانئ 毒品走私路线 🚢🔫 👩🏽‍💻 @GH #drugs"
    c = parse(line)
    assert c.text == "تهريب المخدرات عبر الموانئ 毒品走私路线 🚢🔫 👩🏽‍💻"
    assert c.delegations == ("GH",)
    assert parse(format_captured(c, ROSTER)) == c


def test_tab_is_whitespace() -> None:
    assert parse("/need\tTraining\t@ZM").text == "Training"


def test_every_demo_line_parses_and_round_trips() -> None:
    kinds = set()
    for _, line in CAPTURES:
        c = parse(line)
        kinds.add(c.entry_kind)
        assert parse(format_captured(c, ROSTER)) == c, line
    assert kinds == set(ENTRY_KINDS)
    owners = {parse(line).owner for _, line in CAPTURES}
    assert {"Drugs unit", "region", "GH", "Regional bureau"} <= owners


def test_works_with_a_plain_mapping_roster() -> None:
    roster = {
        "GH": Country("GH", "Ghana", "africa"),
        "CI": Country("CI", "Côte d'Ivoire", "africa"),
    }
    c = parse_line("/i Routes @gh @cote_d_ivoire", roster)
    assert c.delegations == ("GH", "CI")
    with pytest.raises(CaptureError, match="unknown delegation @NG"):
        parse_line("/i Routes @NG", roster)


# -- errors, each with its message and column ---------------------------------------------------


@pytest.mark.parametrize(
    ("line", "column", "length", "message"),
    [
        (
            "/issue Drug routes @XQ #drugs",
            19,
            3,
            "unknown delegation @XQ (not in the roster; use an ISO code like @GH or a name "
            "like @Ghana)",
        ),
        ('/issue Routes @"Atlantis Republic"', 14, 20, "unknown delegation"),
        ("/isue Drug routes", 0, 5, "unknown prefix /isue: use /issue /need /action /decide"),
        ("/ Drug routes", 0, 1, "unknown prefix /"),
        ("/issue /need Training", 7, 5, "second prefix /need: a prefix only starts the line"),
        ("Agreed /D on it", 7, 2, "second prefix /D"),
        ("/note Remember this !high", 20, 5, "a priority only applies to /issue, /need and"),
        ("/park Later #drugs !low", 19, 4, "not to a /park note"),
        ("/d Agreed !h", 10, 2, "not to /d"),
        ("/need Training !urgent", 15, 7, "unknown priority !urgent: use !high !medium !low"),
        ("/need Training !high !low", 21, 4, "second priority !low: this line already has !high"),
        ("/issue Routes owner:@GH", 14, 9, "owner: only applies to /action, not to /issue"),
        ("Plain note due:2026-12-01", 11, 14, "due: only applies to /action, not to a note"),
        ("/a Send owner:@GH owner:@NG", 18, 9, "second owner: this action already has owner"),
        ("/a Send due:+7d due:+1w", 16, 7, "second due date: this action is already due"),
        ("/a Send due:2026-02-30", 8, 14, "due:2026-02-30: no such date"),
        ("/a Send due:2026-13-01", 8, 14, "no such date"),
        ("/a Send due:soon", 8, 8, "due: expected a date YYYY-MM-DD or +7d / +2w, got 'soon'"),
        ("/a Send due:+2m", 8, 7, "expected a date"),
        ("/a Send due:+9999d", 8, 10, "more than 3,650 days ahead"),
        ("/a Send owner:Atlantis", 8, 14, "unknown owner Atlantis: use owner:@GH"),
        ('/a Send owner:""', 8, 8, "empty owner"),
        ('/a Send owner:"Drugs unit', 14, 11, "unterminated quote"),
        ('/i Routes @"Sierra Leone', 11, 13, "unterminated quote"),
        ('/i Routes @"Sierra Leone"x', 25, 1, "unexpected 'x' after the closing quote"),
        ("/i Routes #drugs/cyber", 10, 12, "crime area #drugs/cyber: use letters, digits"),
        ("/issue", 0, 6, "empty text: say what /issue is about"),
        ("/action owner:@GH due:+7d", 0, 25, "empty text"),
        ("   ", 0, 3, "empty text"),
        ("", 0, 1, "empty text"),
        ("Bell \x07 here", 5, 1, "control character U+0007 is not allowed"),
        ("Two\nlines", 3, 1, "control character U+000A"),
        ("Nul\x00", 3, 1, "U+0000"),
        ("Sep\u2028x", 3, 1, "U+2028"),
    ],
)
def test_errors_name_the_problem_and_column(
    line: str, column: int, length: int, message: str
) -> None:
    exc = error(line)
    assert message in exc.message
    assert (exc.column, exc.length) == (column, length)
    assert str(exc) == f"col {column + 1}: {exc.message}"


def test_error_str_matches_the_documented_form() -> None:
    exc = error("/issue Synthetic @XQ")
    assert str(exc).startswith("col 18: unknown delegation @XQ (not in the roster;")
    assert isinstance(exc, ValueError)


def test_text_longer_than_limit_is_rejected_at_the_overflow() -> None:
    ok = "/note " + "x" * MAX_TEXT
    assert len(parse(ok).text) == MAX_TEXT
    exc = error(ok + "y")
    assert "text is 2,001 characters long; the limit is 2,000" in exc.message
    assert exc.column == len("/note ") + MAX_TEXT
    words = "/note " + " ".join(["word"] * 500)  # 2,499 characters of text
    exc = error(words)
    assert "2,499 characters" in exc.message
    assert words[exc.column - 1 : exc.column + 1] in ("wo", "or", "rd", " w", "d ")


def test_one_megabyte_line_is_rejected_with_a_clear_message() -> None:
    line = "/note " + "a" * (1 << 20)
    exc = error(line)
    assert exc.message.startswith(f"line is {len(line):,} characters long; the limit is")
    assert exc.column == MAX_LINE
    # the check is on the length alone, before any scanning: a line full of tokens costs the same
    exc2 = error("@XQ " * (1 << 18))
    assert "characters long" in exc2.message


def test_non_string_input_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        parse_line(None, ROSTER)  # type: ignore[arg-type]


# -- formatting and round trips ----------------------------------------------------------------


def test_format_is_canonical() -> None:
    c = Captured(
        entry_kind="action",
        text="Share #1 list with @home team",
        delegations=("GH", "NG"),
        crime_areas=("drugs", "child-abuse"),
        priority="high",
        owner="Drugs unit",
        due="2026-12-15",
    )
    line = format_captured(c, ROSTER)
    assert line == (
        "/action Share #1 list with \\@home team @GH @NG #drugs #child-abuse !high "
        'owner:"Drugs unit" due:2026-12-15'
    )
    assert parse(line) == c


def test_format_of_parked_note_and_decision() -> None:
    assert format_captured(Captured(text="Later", parked=True), ROSTER) == "/park Later"
    assert format_captured(Captured("decision", "Agreed"), ROSTER) == "/decide Agreed"
    assert format_captured(Captured("action", "Go", owner="region"), ROSTER) == (
        "/action Go owner:region"
    )


def test_grammar_help_documents_every_prefix_and_token() -> None:
    for word in ("/issue", "/need", "/action", "/decide", "/note", "/park", "owner:", "due:",
                 "!high", "#tag", "@XX", "\\@", "~red", "~amber+strict"):  # fmt: skip
        assert word in GRAMMAR_HELP, word
    assert GRAMMAR_HELP.startswith("# ")


_CODES = sorted(ROSTER)
_TOKEN_CHARS = string.ascii_letters + string.digits + "@#!~/\\:\"'.,;-_+% é字🚢"


def _line_pieces() -> st.SearchStrategy[list[str]]:
    word = st.text(alphabet=_TOKEN_CHARS, min_size=1, max_size=12).filter(lambda w: " " not in w)
    unicode_word = st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zs", "Zl", "Zp")),
        min_size=1,
        max_size=8,
    )
    token = st.one_of(
        st.sampled_from(_CODES).map(lambda c: "@" + c),
        st.sampled_from(["@Ghana", '@"Sierra Leone"', "@Ivory_Coast", "@uk"]),
        st.sampled_from(["#drugs", "#Child_Abuse", "#cyber-crime", "#fraud"]),
        st.sampled_from(["!high", "!m", "!L"]),
        st.sampled_from(["owner:@KE", "owner:region", 'owner:"Drugs \\"x\\" unit"', "owner:Kenya"]),
        st.sampled_from(["due:2027-01-31", "due:+3d", "due:+1w"]),
        st.sampled_from(["~clear", "~Green", "~amber", "~amber+strict", "~red"]),
    )
    return st.lists(st.one_of(word, unicode_word, token), min_size=1, max_size=12)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(["", "/issue ", "/need ", "/a ", "/decide ", "/note ", "/park "]),
    pieces=_line_pieces(),
)
def test_round_trip_of_parsed_lines(prefix: str, pieces: list[str]) -> None:
    line = prefix + " ".join(pieces)
    try:
        c = parse(line)
    except CaptureError as exc:
        assert 0 <= exc.column <= len(line)
        assert exc.message
        return
    line2 = format_captured(c, ROSTER)
    assert parse(line2) == c
    assert format_captured(parse(line2), ROSTER) == line2


@settings(max_examples=EXAMPLES, deadline=None)
@given(
    kind=st.sampled_from(ENTRY_KINDS),
    text=st.text(
        alphabet=st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp")),
        min_size=1,
        max_size=80,
    ).filter(lambda t: t.split()),
    delegations=st.lists(st.sampled_from(_CODES), max_size=5, unique=True),
    tags=st.lists(
        st.from_regex(r"[a-z][a-z0-9]{0,6}(-[a-z0-9]{1,5})?", fullmatch=True),
        max_size=3,
        unique=True,
    ),  # fmt: skip
    priority=st.sampled_from(("", *PRIORITIES)),
    owner=st.one_of(
        st.just(""),
        st.just("region"),
        st.sampled_from(_CODES),
        st.text(alphabet=string.ascii_letters + ' "\\-', min_size=1, max_size=20).filter(
            lambda o: o.split() and " ".join(o.split()) == o and o not in ROSTER and o != "region"
        ),
    ),
    due=st.one_of(st.just(""), st.dates().map(dt.date.isoformat)),
    parked=st.booleans(),
    tlp=st.sampled_from(("", *TLP_LABELS)),
)
def test_round_trip_of_captured_fields(
    kind, text, delegations, tags, priority, owner, due, parked, tlp
) -> None:
    action = kind == "action"
    c = Captured(
        entry_kind=kind,
        text=" ".join(text.split()),
        delegations=tuple(delegations),
        crime_areas=tuple(tags),
        priority=priority if kind in ("issue", "need", "action") else "",
        owner=owner if action else "",
        due=due if action else "",
        parked=parked and kind == "note",
        tlp=tlp,
    )
    assert parse(format_captured(c, ROSTER)) == c


@settings(max_examples=EXAMPLES, deadline=None)
@given(st.text(max_size=200))
def test_arbitrary_input_gives_a_result_or_a_located_error(line: str) -> None:
    try:
        c = parse(line)
    except CaptureError as exc:
        assert 0 <= exc.column <= max(len(line), MAX_LINE)
        return
    assert c.text and c.text == " ".join(c.text.split())
    assert c.entry_kind in ENTRY_KINDS
