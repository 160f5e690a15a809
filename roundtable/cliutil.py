"""What the offline commands (cli.py) and the network commands (netcli.py) share: the error a
command raises for the user, the check of a name given on the command line, and the store a
command opens, whose notices are printed when the command ends.

Both command modules import this one and neither imports the other's internals, so there is no
cycle between them (an import-linter contract in pyproject.toml keeps it so).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING

from roundtable.errors import RoundtableError

if TYPE_CHECKING:
    from roundtable.store import LocalStore


class CliError(RoundtableError):
    """A user mistake or an unusable file: printed as one line, exit 1."""


_STORES: list[LocalStore] = []
"""The stores this command opened: their notices (e.g. a store brought forward from an older
schema, and where its backup is) are printed when the command ends."""


def open_store() -> LocalStore:
    """The local store in the configured home, remembered for `print_notices`."""
    from roundtable.config import home_dir
    from roundtable.store import LocalStore

    store = LocalStore(home_dir())
    store.ask_passphrase = ask_passphrase
    _STORES.append(store)
    return store


PASSPHRASE_ENV = "ROUNDTABLE_PASSPHRASE"


def ask_passphrase(what: str, *, confirm: bool = False) -> str | None:
    """An encrypted session's passphrase: $ROUNDTABLE_PASSPHRASE (scripts, tests), else asked
    on the terminal (not echoed); None when neither can give one."""
    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None
    import getpass

    try:
        passphrase = getpass.getpass(f"passphrase for {what}: ", stream=sys.stderr)
        if confirm and getpass.getpass("again: ", stream=sys.stderr) != passphrase:
            raise CliError("the two passphrases differ; nothing was created")
    except (EOFError, KeyboardInterrupt):
        print(file=sys.stderr)
        return None
    return passphrase


def print_notices() -> None:
    """Print, on stderr, what the stores opened by this command have to say; once."""
    for store in _STORES:
        for notice in store.notices:
            print(f"roundtable: note: {notice}", file=sys.stderr)
    _STORES.clear()


NAME_LIMIT = 200
"""Characters in a name given on the command line (event, title, room, people)."""


def name_arg(text: str) -> str:
    """argparse type for a name: at most NAME_LIMIT characters, none that the capture grammar
    refuses (and no tab)."""
    from roundtable.capture import bad_character
    from roundtable.text import bidi_control

    if len(text) > NAME_LIMIT:
        raise argparse.ArgumentTypeError(f"{len(text):,} characters; the limit is {NAME_LIMIT}")
    if "\t" in text:
        raise argparse.ArgumentTypeError(
            f"character {text.index(chr(9)) + 1}: control character U+0009 is not allowed"
        )
    bad = bad_character(text) or bidi_control(text)
    if bad:
        raise argparse.ArgumentTypeError(f"character {bad[0] + 1}: {bad[1]}")
    return text
