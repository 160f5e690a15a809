"""The one base of every error a user may see.

Each subclass's message is already a precise one-line statement naming what and where (a file
and its line, a setting, a request), so the CLI prints it as it is and exits 1, and the app
shows it as an error notification; neither ever shows a traceback for one.  An exception that
is not a ``RoundtableError`` is a bug and is reported as one.
"""

from __future__ import annotations


class RoundtableError(Exception):
    """A user-facing error: its message is one line for the user."""
