"""The `roundtable` command as scripts run it in tests, with its own home: the one CLI helper.

``rt(...)`` runs ``cli.main(argv)`` in this process (the environment, standard input and output
swapped for the call, an escaped exception turned into a traceback on stderr and exit status 1,
as the interpreter would), which proves the command's behaviour at a fraction of the cost of a
new interpreter (~0.2 s each).  ``rt(..., process=True)`` runs ``python -m roundtable`` in a
real process: for what only the process shows (its exit status as a shell sees it, its real
standard input, no traceback reaching the terminal); tests/test_cli.py keeps those."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import traceback
from pathlib import Path


def _env(home: Path, passphrase: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["ROUNDTABLE_HOME"] = str(home)
    env["ROUNDTABLE_CONFIG"] = str(home / "settings.toml")
    env.pop("ROUNDTABLE_PASSPHRASE", None)
    if passphrase is not None:
        env["ROUNDTABLE_PASSPHRASE"] = passphrase
    return env


def rt(
    *args: str,
    home: Path,
    passphrase: str | None = None,
    input_: str | None = None,
    process: bool = False,
) -> subprocess.CompletedProcess:
    """``roundtable ARGS`` with ROUNDTABLE_HOME and ROUNDTABLE_CONFIG under ``home``;
    ROUNDTABLE_PASSPHRASE is ``passphrase`` when given, never one inherited; ``input_`` on
    standard input.  In this process unless ``process``."""
    env = _env(home, passphrase)
    if process:
        return subprocess.run(
            [sys.executable, "-m", "roundtable", *args],
            capture_output=True,
            text=True,
            env=env,
            input=input_,
            timeout=120,
        )
    from roundtable import cli

    out, err = io.BytesIO(), io.BytesIO()
    streams = (sys.stdin, sys.stdout, sys.stderr)
    saved = dict(os.environ)
    swapped = (
        io.TextIOWrapper(io.BytesIO((input_ or "").encode()), encoding="utf-8"),
        io.TextIOWrapper(out, encoding="utf-8", write_through=True),
        io.TextIOWrapper(err, encoding="utf-8", write_through=True),
    )
    sys.stdin, sys.stdout, sys.stderr = swapped
    os.environ.clear()
    os.environ.update(env)
    try:
        try:
            code = cli.main(list(args))
        except SystemExit as exc:  # argparse's --help, --version and usage errors
            if isinstance(exc.code, str):
                print(exc.code, file=sys.stderr)
            code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        except BaseException:  # what the interpreter would print, and its status
            traceback.print_exc(file=sys.stderr)
            code = 1
    finally:
        sys.stdin, sys.stdout, sys.stderr = streams
        for stream in swapped:
            stream.flush()
            stream.detach()  # dropping the wrapper must not close the buffer read below
        os.environ.clear()
        os.environ.update(saved)
    return subprocess.CompletedProcess(
        ["roundtable", *args], code, out.getvalue().decode(), err.getvalue().decode()
    )


def one_line_error(result: subprocess.CompletedProcess, *needles: str) -> str:
    """Asserts the command failed with exactly one line on stderr, holding every needle, and
    no traceback; returns that line."""
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``cli.main(argv)`` in this process, in the test's environment, with what it printed
    (pytest's ``capsys``): exit status, standard output, standard error."""
    from roundtable import cli

    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
