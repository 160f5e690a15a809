"""Bad session plans and settings files.  A plan error is one line, ``file:line: field: problem``;
a settings error names the file and the key; through the CLI either is exit 1, one line on
stderr, no traceback, and nothing stored changes."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from roundtable import config
from sessions import PlanError, load_plan

GOOD_HEAD = 'name = "p"\nregion = "europe"\ntitle = "T"\n'
ITEM = '[[items]]\ntitle = "A"\nminutes = 10\nkind = "discussion"\n'
MIXED = "Ελληνικά Кирилица 中文 العربية \u200f עברית e\u0301 🚓"


def _replace(key: str, value: str) -> str:
    """The good plan with one top-level key's value replaced."""
    lines = [
        f"{key} = {value}" if line.startswith(f"{key} =") else line
        for line in GOOD_HEAD.splitlines()
    ]
    return "\n".join(lines) + "\n" + ITEM


def _item(key: str, value: str | None) -> str:
    """The good plan with one key of its item replaced (None: removed)."""
    lines = []
    for line in ITEM.splitlines():
        if line.startswith(f"{key} ="):
            if value is None:
                continue
            line = f"{key} = {value}"
        lines.append(line)
    return GOOD_HEAD + "\n".join(lines) + "\n"


PLANS = [
    # (id, file content (str or bytes), expected message after "FILE")
    ("empty", "", ":1: name: missing"),
    ("not-toml", "name = = 1\n", ":1: TOML syntax: "),
    ("not-utf8", GOOD_HEAD.encode() + b"# \xff\xfe\n" + ITEM.encode(), ":4: not UTF-8 text"),
    ("nul-byte", GOOD_HEAD + 'x = "\x00"\n', ":4: TOML syntax: "),
    ("no-items", GOOD_HEAD, ":1: items: missing"),
    ("no-region", 'name = "p"\ntitle = "T"\n' + ITEM, ":1: region: missing"),
    ("name-int", _replace("name", "7"), ":1: name: expected lower-case letters"),
    ("name-mixed", _replace("name", f'"{MIXED}"'), ":1: name: expected lower-case letters"),
    ("region-unknown", _replace("region", '"mars"'), ":2: region: expected one of "),
    ("region-list", _replace("region", '["europe"]'), ":2: region: expected one of "),
    ("title-blank", _replace("title", '"   "'), ":3: title: expected a non-empty text"),
    ("title-table", _replace("title", "{a = 1}"), ":3: title: expected a non-empty text"),
    ("title-ansi", _replace("title", '"\\u001b[2J"'), ":3: title: control character '\\x1b'"),
    (
        "title-huge",
        _replace("title", '"' + "x" * 1_000_000 + '"'),
        ":3: title: longer than 200 characters",
    ),
    ("unknown-top", GOOD_HEAD + 'colour = "red"\n' + ITEM, ":4: colour: unknown key"),
    ("unknown-top-newline", GOOD_HEAD + '"a\\nb" = 1\n' + ITEM, ":1: 'a\\nb': unknown key"),
    ("tour-int", GOOD_HEAD + "tour = 5\n" + ITEM, ":4: tour: expected a [tour] table"),
    (
        "tour-zero",
        GOOD_HEAD + "[tour]\nseconds_per_delegation = 0\n" + ITEM,
        ":5: tour.seconds_per_delegation: expected a whole number of seconds 15-900, got 0",
    ),
    (
        "tour-float",
        GOOD_HEAD + "[tour]\nseconds_per_delegation = 60.0\n" + ITEM,
        ":5: tour.seconds_per_delegation: expected a whole number of seconds 15-900, got 60.0",
    ),
    ("tour-unknown", GOOD_HEAD + "[tour]\nspeed = 2\n" + ITEM, ":5: tour.speed: unknown key"),
    ("items-table", GOOD_HEAD + "[items]\ntitle = 'A'\n", ":4: items: expected at least one"),
    ("items-empty", GOOD_HEAD + "items = []\n", ":4: items: expected at least one"),
    ("item-no-minutes", _item("minutes", None), ":4: items[1].minutes: missing"),
    ("item-no-title", _item("title", None), ":4: items[1].title: missing"),
    ("minutes-zero", _item("minutes", "0"), ":6: items[1].minutes: expected a whole number"),
    ("minutes-negative", _item("minutes", "-5"), ":6: items[1].minutes: expected a whole"),
    ("minutes-huge", _item("minutes", "9" * 18), ":6: items[1].minutes: expected a whole"),
    ("minutes-text", _item("minutes", '"10"'), ":6: items[1].minutes: expected a whole number"),
    ("minutes-bool", _item("minutes", "true"), ":6: items[1].minutes: expected a whole number"),
    ("kind-unknown", _item("kind", '"party"'), ":7: items[1].kind: expected one of "),
    ("kind-list", _item("kind", "[1]"), ":7: items[1].kind: expected one of "),
    ("item-title-int", _item("title", "3"), ":5: items[1].title: expected a non-empty text"),
    (
        "prompts-text",
        ITEM and GOOD_HEAD + ITEM + 'prompts = "ask"\n',
        ":8: items[1].prompts: expected a list of texts",
    ),
    (
        "prompt-int",
        GOOD_HEAD + ITEM + "prompts = ['ok', 3]\n",
        ":8: items[1].prompts[2]: expected a non-empty text, got 3",
    ),
    (
        "prompt-huge",
        GOOD_HEAD + ITEM + "prompts = ['" + "p" * 600 + "']\n",
        ":8: items[1].prompts[1]: longer than 500 characters",
    ),
    (
        "prompt-bell",
        GOOD_HEAD + ITEM + 'prompts = ["ring \\u0007"]\n',
        ":8: items[1].prompts[1]: control character '\\x07' at character 6",
    ),
    ("item-unknown", GOOD_HEAD + ITEM + "owner = 'x'\n", ":8: items[1].owner: unknown key"),
    (
        "duplicate-items",
        GOOD_HEAD + ITEM + ITEM.replace('"A"', '" a "'),
        ":9: items[2].title: 'a' is also the title of items[1]",
    ),
    ("duplicate-key", GOOD_HEAD + 'name = "q"\n' + ITEM, ":4: TOML syntax: "),
]


@pytest.mark.parametrize(("content", "expected"), [c[1:] for c in PLANS], ids=[c[0] for c in PLANS])
def test_bad_plan_is_one_precise_line(tmp_path: Path, content, expected: str) -> None:
    path = tmp_path / "plan.toml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    message = str(info.value)
    assert message.startswith(f"{path}{expected}"), message
    assert "\n" not in message and len(message) < 400


def test_mixed_script_plan_text_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "plan.toml"
    path.write_text(_replace("title", f'"{MIXED}"') + f'prompts = ["{MIXED}"]\n', "utf-8")
    plan = load_plan(path)
    assert plan.title == MIXED and plan.items[0].prompts == (MIXED,)


def _digest(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(home.rglob("*"))
        if p.is_file() and p.name != "lock"
    }


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "roundtable", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture()
def home_env(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    home = tmp_path / "home"
    env = dict(os.environ, ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(tmp_path / "s.toml"))
    env.pop("ROUNDTABLE_API_URL", None)
    env.pop("ROUNDTABLE_TOKEN", None)
    made = _run(env, "new", "--region", "africa")
    assert made.returncode == 0, made.stderr
    return home, env


@pytest.mark.parametrize(
    ("content", "expected"),
    [(c[1], c[2]) for c in PLANS if c[0] in ("not-utf8", "region-unknown", "duplicate-items")],
    ids=["not-utf8", "region-unknown", "duplicate-items"],
)
def test_cli_new_with_bad_plan_stores_nothing(home_env, tmp_path: Path, content, expected) -> None:
    home, env = home_env
    before = _digest(home)
    plan = tmp_path / "plan.toml"
    plan.write_bytes(content.encode() if isinstance(content, str) else content)
    done = _run(env, "new", "--plan", str(plan))
    assert done.returncode == 1
    assert done.stderr.startswith(f"roundtable: {plan}{expected}"), done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert _digest(home) == before


def test_cli_plans_lists_a_bad_user_plan_in_one_line(home_env, tmp_path: Path) -> None:
    home, env = home_env
    plans = tmp_path / "plans"
    plans.mkdir()
    (plans / "mine.toml").write_text(_item("minutes", "-1"), "utf-8")
    done = _run(env, "plans")
    assert done.returncode == 1
    assert done.stderr == f"error: {plans / 'mine.toml'}:6: items[1].minutes: " + (
        "expected a whole number of minutes 1-240, got -1\n"
    )
    assert len(done.stdout.splitlines()) == 5  # the built-in plans are still listed


SETTINGS = [
    # (id, settings file content, expected message after the file name)
    ("not-toml", "theme = \n", ": not valid TOML: "),
    ("not-utf8", b"theme = 'textual-dark'\n# \xff\n", ":2: not UTF-8 text"),
    ("unknown-key", "colour = 'red'\n", ": unknown setting 'colour' (known: "),
    ("unknown-key-huge", "'" + "k" * 100_000 + "' = 1\n", ": unknown setting 'kkkk"),
    ("theme-int", "theme = 3\n", ": theme: expected text, got 3"),
    ("theme-unknown", "theme = 'pink'\n", ": theme: expected one of textual-dark, textual-light"),
    ("interval-text", "sync_interval = '30'\n", ": sync_interval: expected a whole number"),
    ("interval-bool", "sync_interval = true\n", ": sync_interval: expected a whole number"),
    ("interval-zero", "sync_interval = 0\n", ": sync_interval: expected 5-3600 seconds, got 0"),
    ("deadline-huge", f"sync_deadline = {2**62}\n", ": sync_deadline: expected 5-600 seconds"),
    ("checkpoint-neg", "checkpoint_every = -1\n", ": checkpoint_every: expected 1-100000"),
    ("url-ftp", "api_url = 'ftp://x'\n", ": api_url: expected an http:// or https:// URL"),
    ("url-huge", "api_url = '" + "u" * 1_000_000 + "'\n", ": api_url: expected an http://"),
    ("keymap-int", "[keymap]\nquit = 3\n", ': [keymap]: expected a table of binding id = "keys"'),
    ("conference-list", "conference = ['a']\n", ": conference: expected text, got ['a']"),
]


@pytest.mark.parametrize(
    ("content", "expected"), [c[1:] for c in SETTINGS], ids=[c[0] for c in SETTINGS]
)
def test_bad_settings_is_one_line_naming_file_and_key(tmp_path: Path, content, expected) -> None:
    path = tmp_path / "settings.toml"
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    with pytest.raises(config.ConfigError) as info:
        config.load_settings(path)
    message = str(info.value)
    assert message.startswith(f"{path}{expected}"), message
    assert "\n" not in message and len(message) < 400


def test_settings_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError, match=r": cannot read: Is a directory$"):
        config.load_settings(tmp_path)


def test_bad_env_url_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDTABLE_API_URL", "gopher://x")
    with pytest.raises(config.ConfigError, match=r"^ROUNDTABLE_API_URL: api_url: expected"):
        config.load_settings(tmp_path / "none.toml")


@pytest.mark.parametrize("token", ["two words", "ctl\x1bchar"])
def test_bad_env_token_is_named(monkeypatch: pytest.MonkeyPatch, token: str) -> None:
    monkeypatch.setenv("ROUNDTABLE_TOKEN", token)
    with pytest.raises(config.ConfigError, match=r"^ROUNDTABLE_TOKEN: expected one printable"):
        config.load_token()


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(mode=0o700), "cannot read the token file"),
        (lambda p: p.write_bytes(b"\xff\xfe"), "token file is not UTF-8 text"),
    ],
    ids=["directory", "not-utf8"],
)
def test_bad_token_file_is_one_line(tmp_path: Path, make, expected: str) -> None:
    path = tmp_path / "token"
    make(path)
    path.chmod(0o700 if path.is_dir() else 0o600)
    with pytest.raises(config.ConfigError, match=f"^{path}: {expected}"):
        config.load_token(path)


@pytest.mark.parametrize("content", ["colour = 'red'\n", b"\xff\n", "sync_interval = 1\n"])
def test_cli_with_bad_settings_refuses_in_one_line(home_env, content) -> None:
    home, env = home_env
    before = _digest(home)
    Path(env["ROUNDTABLE_CONFIG"]).write_bytes(
        content.encode() if isinstance(content, str) else content
    )
    done = _run(env, "new", "--region", "europe")
    assert done.returncode == 1
    assert done.stderr.startswith(f"roundtable: {env['ROUNDTABLE_CONFIG']}")
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert _digest(home) == before
