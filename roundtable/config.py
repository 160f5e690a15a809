"""Settings: one TOML file plus ROUNDTABLE_* environment variables; directories via platformdirs.

Precedence: environment variable > settings file > default.  Every value is validated on load and
a mistake is reported as one line naming the file and the key.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from roundtable import osfiles
from roundtable.errors import RoundtableError
from roundtable.osfiles import atomic_write_text
from roundtable.text import TextFileError, quote, read_text_file

APP_NAME = "roundtable"
THEMES = ("textual-dark", "textual-light")


class ConfigError(RoundtableError, ValueError):
    """A settings or token file that cannot be used; the message names the file and the key."""


def home_dir() -> Path:
    """Where the stores live: $ROUNDTABLE_HOME, else the platform's user data dir."""
    env = os.environ.get("ROUNDTABLE_HOME")
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def config_file() -> Path:
    """$ROUNDTABLE_CONFIG, else settings.toml in $ROUNDTABLE_HOME when that is set (one home
    holds a laptop's settings, token, plans, logs and exports, so two homes on one machine are
    two laptops), else in the platform's user config dir."""
    env = os.environ.get("ROUNDTABLE_CONFIG")
    if env:
        return Path(env).expanduser()
    if os.environ.get("ROUNDTABLE_HOME"):
        return home_dir() / "settings.toml"
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "settings.toml"


def token_file() -> Path:
    """The sync token lives beside the settings, in its own file readable by the owner only."""
    return config_file().with_name("token")


def plans_dir() -> Path:
    """Facilitators' own plan files (*.toml), offered beside the built-in regional plans."""
    return config_file().with_name("plans")


def log_dir() -> Path:
    return home_dir() / "logs"


@dataclass(frozen=True)
class Settings:
    api_url: str = ""
    ca_file: str = ""
    theme: str = "textual-dark"
    conference: str = ""
    language: str = ""  # documents' language: en, fr, es or ar ("" = the plan's, else en)
    label: str = ""  # who uses this laptop, shown in other laptops' conflicts (issue 12)
    checkpoint_every: int = 1000  # the app's backstop; it checkpoints when idle first
    sync_interval: int = 30  # seconds between background sync rounds in the app
    sync_deadline: int = 60  # seconds a sync round may take, retries included
    keymap: dict[str, str] = field(default_factory=dict)  # binding id -> keys
    encrypt_new_sessions: bool = False  # new sessions encrypted at rest (a passphrase asked)
    source: str = ""  # the file the settings were read from ("" when none)


_SPEC: dict[str, type] = {
    "api_url": str,
    "ca_file": str,
    "theme": str,
    "conference": str,
    "language": str,
    "label": str,
    "checkpoint_every": int,
    "sync_interval": int,
    "sync_deadline": int,
    "keymap": dict,
    "encrypt_new_sessions": bool,
}


def _check(path: Path, key: str, value: Any) -> Any:
    expected = _SPEC[key]
    if expected is int and (not isinstance(value, int) or isinstance(value, bool)):
        raise ConfigError(f"{path}: {key}: expected a whole number, got {quote(value)}")
    if expected is bool and not isinstance(value, bool):
        raise ConfigError(f"{path}: {key}: expected true or false, got {quote(value)}")
    if expected is str and not isinstance(value, str):
        raise ConfigError(f"{path}: {key}: expected text, got {quote(value)}")
    if expected is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigError(f'{path}: [{key}]: expected a table of binding id = "keys"')
    if key == "theme" and value not in THEMES:
        raise ConfigError(f"{path}: theme: expected one of {', '.join(THEMES)}, got {quote(value)}")
    if key == "language" and value not in ("", "en", "fr", "es", "ar"):
        raise ConfigError(f"{path}: language: expected en, fr, es or ar, got {quote(value)}")
    if key == "label" and value and (len(value) > 200 or not value.isprintable()):
        raise ConfigError(f"{path}: label: expected printable text of at most 200 characters")
    if key == "checkpoint_every" and not 1 <= value <= 100_000:
        raise ConfigError(f"{path}: checkpoint_every: expected 1-100000, got {quote(value)}")
    if key == "sync_interval" and not 5 <= value <= 3600:
        raise ConfigError(f"{path}: sync_interval: expected 5-3600 seconds, got {quote(value)}")
    if key == "sync_deadline" and not 5 <= value <= 600:
        raise ConfigError(f"{path}: sync_deadline: expected 5-600 seconds, got {quote(value)}")
    if key == "api_url" and value and not value.startswith(("http://", "https://")):
        raise ConfigError(
            f"{path}: api_url: expected an http:// or https:// URL, got {quote(value)}"
        )
    return value


def load_settings(path: Path | None = None) -> Settings:
    """Read and validate the settings file (missing file = defaults), then apply env vars."""
    path = path or config_file()
    values: dict[str, Any] = {}
    source = ""
    if path.exists():
        try:
            text = read_text_file(path)
        except TextFileError as exc:
            raise ConfigError(str(exc)) from None
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        for key, value in data.items():
            if key not in _SPEC:
                known = ", ".join(sorted(_SPEC))
                raise ConfigError(f"{path}: unknown setting {quote(key)} (known: {known})")
            values[key] = _check(path, key, value)
        source = str(path)
    env_url = os.environ.get("ROUNDTABLE_API_URL")
    if env_url:
        values["api_url"] = _check(Path("ROUNDTABLE_API_URL"), "api_url", env_url)
    return Settings(**values, source=source)


def save_settings(path: Path | None = None, **changes: Any) -> Settings:
    """Change some settings and write the file back (validated first, written atomically).

    The file is edited, not regenerated (tomlkit): the user's comments, order and other keys
    stay as they were; a key already in the file takes its new value in place, a new key is
    added only when it differs from the default, and a changed ``[keymap]`` keeps the comments
    of the bindings it keeps.  An environment variable never ends up in the file."""
    import tomlkit

    path = path or config_file()
    current = load_settings(path) if path.exists() else Settings()
    for key, value in changes.items():
        if key not in _SPEC:
            raise ConfigError(f"{path}: unknown setting {key!r}")
        _check(path, key, value)
    if path.exists():
        try:
            document = tomlkit.parse(read_text_file(path))
        except TextFileError as exc:
            raise ConfigError(str(exc)) from None
        except tomlkit.exceptions.ParseError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    else:
        document = tomlkit.document()
        document.add(tomlkit.comment("roundtable settings; your comments and order are kept"))
    defaults = Settings()
    for key, value in changes.items():
        if key == "keymap":
            _update_keymap(document, value)
        elif key in document or value != getattr(defaults, key):
            document[key] = value
    atomic_write_text(path, tomlkit.dumps(document))
    return replace(current, **changes, source=str(path))


def _update_keymap(document: Any, keymap: dict[str, str]) -> None:
    """Make the file's ``[keymap]`` table say ``keymap``, binding by binding."""
    import tomlkit

    if "keymap" not in document:
        if keymap:
            table = tomlkit.table()
            table.update(keymap)
            document["keymap"] = table
        return
    table = document["keymap"]
    for binding_id in [k for k in table if k not in keymap]:
        del table[binding_id]
    for binding_id, keys in keymap.items():
        if table.get(binding_id) != keys:
            table[binding_id] = keys


TOKEN_LIMIT = 200


def is_token(text: str) -> bool:
    """Whether ``text`` can be a token the secretariat issued: one word of printable ASCII, at
    most TOKEN_LIMIT characters."""
    return (
        0 < len(text) <= TOKEN_LIMIT and text.isascii() and text.isprintable() and (" " not in text)
    )


def load_token(path: Path | None = None) -> str:
    """The sync token: $ROUNDTABLE_TOKEN, else the token file (refused if others can read it)."""
    env = os.environ.get("ROUNDTABLE_TOKEN")
    if env:
        token = env.strip()
        if token and not is_token(token):
            raise ConfigError("ROUNDTABLE_TOKEN: expected one printable word")
        return token
    path = path or token_file()
    if not path.exists():
        return ""
    problem = osfiles.private_file_problem(path)
    if problem:
        raise ConfigError(problem)
    try:
        token = path.read_bytes().decode("utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the token file: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: token file is not UTF-8 text") from None
    if token and not is_token(token):
        raise ConfigError(f"{path}: token file holds more than one printable word")
    return token


def save_token(token: str, path: Path | None = None) -> Path:
    path = path or token_file()
    osfiles.write_private_text(path, token + "\n")
    return path


def mask_token(token: str) -> str:
    """What may be shown of a token: enough to tell two apart, never enough to use one."""
    if not token:
        return "(none)"
    return f"{token[:4]}…{len(token)} chars"
