"""Issue 12: ROUNDTABLE_HOME alone separates two laptops on one machine: settings, token,
plans, logs and exports live under it unless ROUNDTABLE_CONFIG says otherwise.  Before, the
settings and the token stayed in the user's config directory, shared by both homes."""

from __future__ import annotations

from pathlib import Path

import pytest

from roundtable import cli, config


@pytest.fixture
def machine(tmp_path: Path, monkeypatch) -> Path:
    """A machine whose user config directory is known, so a leak into it is seen."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))
    monkeypatch.delenv("ROUNDTABLE_CONFIG", raising=False)
    monkeypatch.delenv("ROUNDTABLE_TOKEN", raising=False)
    monkeypatch.delenv("ROUNDTABLE_API_URL", raising=False)
    return tmp_path


def locate(capsys) -> dict[str, Path]:
    assert cli.main(["locate"]) == 0
    rows = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    return {row[0]: Path(row[1]) for row in rows}


def test_two_homes_are_two_laptops(machine: Path, monkeypatch, capsys) -> None:
    homes = [machine / "laptop-a", machine / "laptop-b"]
    for n, home in enumerate(homes):
        monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
        config.save_settings(api_url=f"https://rt{n}.example.org", label=f"Room {n}")
        config.save_token(f"token-of-laptop-{n}")
        places = locate(capsys)
        for name in ("settings", "token", "plans", "logs", "exports"):
            assert home in places[name].parents, (name, places[name])
    for n, home in enumerate(homes):
        monkeypatch.setenv("ROUNDTABLE_HOME", str(home))
        assert config.load_token() == f"token-of-laptop-{n}"
        settings = config.load_settings()
        assert (settings.api_url, settings.label) == (f"https://rt{n}.example.org", f"Room {n}")
        assert (home / "settings.toml").is_file() and (home / "token").is_file()
    assert not (machine / "user-config").exists()  # nothing went to the shared directory


def test_roundtable_config_still_says_where_the_settings_are(machine, monkeypatch, capsys):
    monkeypatch.setenv("ROUNDTABLE_HOME", str(machine / "laptop-a"))
    monkeypatch.setenv("ROUNDTABLE_CONFIG", str(machine / "elsewhere" / "rt.toml"))
    config.save_settings(theme="textual-light")
    places = locate(capsys)
    assert places["settings"] == machine / "elsewhere" / "rt.toml"
    assert places["token"] == machine / "elsewhere" / "token"
    assert places["logs"] == machine / "laptop-a" / "logs"
    assert config.load_settings().theme == "textual-light"


def test_without_roundtable_home_the_platform_directories_are_used(machine, monkeypatch):
    monkeypatch.delenv("ROUNDTABLE_HOME", raising=False)
    assert machine / "user-config" in config.config_file().parents
