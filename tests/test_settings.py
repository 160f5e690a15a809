"""The settings file is the user's: writing it (`roundtable connect`, the app's theme) edits the
keys that change and keeps every comment, the order and the keys it was not asked to change."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from roundtable import config

USER_FILE = """\
# Room B laptop: settings for the Europe round table
conference = "European Regional Conference"  # as printed on the badges

# background sync: the room's Wi-Fi is slow, give it time
sync_deadline = 120
theme = "textual-light"

[keymap]
# my fingers know these
"capture.focus" = "ctrl+l"
"app.help" = "f2"  # f1 is taken by the screen reader
"""


def test_connect_keeps_the_comments_and_order_of_the_settings_file(
    tmp_path: Path, live_server
) -> None:
    event_id = live_server.create_event("European Regional Conference")
    token = live_server.token(event_id)
    settings = tmp_path / "settings.toml"
    settings.write_text(USER_FILE, encoding="utf-8")
    env = dict(os.environ, ROUNDTABLE_HOME=str(tmp_path / "home"), ROUNDTABLE_CONFIG=str(settings))
    connected = subprocess.run(
        [sys.executable, "-m", "roundtable", "connect", live_server.url, "--token", token],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert connected.returncode == 0, connected.stderr
    # everything the user wrote, as written, then the server's address; ca_file (empty, the
    # default) is not added
    text = settings.read_text(encoding="utf-8")
    head, tables = USER_FILE.split("\n[keymap]\n")
    assert text == f'{head}api_url = "{live_server.url}"\n\n[keymap]\n{tables}'
    loaded = config.load_settings(settings)
    assert loaded.api_url == live_server.url and loaded.sync_deadline == 120
    assert loaded.keymap == {"capture.focus": "ctrl+l", "app.help": "f2"}


def test_a_key_in_the_file_changes_in_place_with_its_comment(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    config.save_settings(path, theme="textual-dark", sync_deadline=60)
    expected = USER_FILE.replace('theme = "textual-light"', 'theme = "textual-dark"')
    expected = expected.replace("sync_deadline = 120", "sync_deadline = 60")
    assert path.read_text(encoding="utf-8") == expected  # set to the default: kept, not dropped
    assert config.load_settings(path).theme == "textual-dark"


def test_a_changed_keymap_keeps_the_comments_of_the_bindings_it_keeps(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(USER_FILE, encoding="utf-8")
    config.save_settings(path, keymap={"app.help": "f2", "session.close": "ctrl+w"})
    text = path.read_text(encoding="utf-8")
    assert '"capture.focus"' not in text
    assert '"app.help" = "f2"  # f1 is taken by the screen reader' in text
    assert "# my fingers know these" in text
    assert config.load_settings(path).keymap == {"app.help": "f2", "session.close": "ctrl+w"}


def test_a_new_file_holds_only_what_differs_from_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "new" / "settings.toml"
    text_with_quotes = 'Conférence "Europe" \\ 2026\u0007'
    config.save_settings(path, theme="textual-dark", conference=text_with_quotes)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# roundtable settings") and "theme" not in text
    assert config.load_settings(path).conference == text_with_quotes


def test_an_environment_variable_never_ends_up_in_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('api_url = "https://rt.example.org"\n', encoding="utf-8")
    monkeypatch.setenv("ROUNDTABLE_API_URL", "http://127.0.0.1:8765")
    saved = config.save_settings(path, theme="textual-light")
    assert saved.api_url == "http://127.0.0.1:8765"  # in effect for this run
    assert path.read_text(encoding="utf-8") == (
        'api_url = "https://rt.example.org"\ntheme = "textual-light"\n'
    )


@pytest.mark.parametrize(
    ("content", "change", "message"),
    [
        ("theme = \n", {"theme": "textual-dark"}, "not valid TOML"),
        ('theme = "textual-dark"\n', {"theme": "purple"}, "theme: expected one of"),
        ('theme = "textual-dark"\n', {"sync_interval": 1}, "sync_interval: expected 5-3600"),
    ],
    ids=["file-not-toml", "bad-value", "out-of-range"],
)
def test_a_bad_file_or_value_is_refused_and_the_file_is_untouched(
    tmp_path: Path, content: str, change: dict, message: str
) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(config.ConfigError, match=message) as caught:
        config.save_settings(path, **change)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert path.read_text(encoding="utf-8") == content
