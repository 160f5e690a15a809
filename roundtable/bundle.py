"""The offline bundle (`make bundle`): roundtable's wheel and every wheel the laptop side needs,
for each platform facilitators' laptops run, with an install script per platform.

    python -m roundtable.bundle [--source DIR | --wheel FILE] [--out DIR]

writes ``<out>/roundtable-<version>-offline/`` and the same as a ``.zip`` beside it:

    wheels/        roundtable's wheel and its dependencies' (not the ``server`` extra), for
                   Windows (win_amd64), macOS (arm64, x86_64) and Linux (manylinux x86_64),
                   CPython 3.11, 3.12 and 3.13; pure-Python packages once, as py3-none-any
    install.sh     Linux and macOS: a virtual environment, ``pip install --no-index
                   --find-links wheels``, a ``roundtable`` command on the PATH
    install.ps1    Windows (PowerShell, no make or bash): the same
    README.txt     how to run them; SHA256SUMS: a checksum per file

Every wheel is fetched with ``pip download --only-binary=:all: --platform ... --python-version
... --implementation cp``, so a dependency with no wheel for a platform stops the bundle with
pip's own message naming it (never a source package that would need a compiler offline).  Then
each platform and version is resolved again from the ``wheels`` folder alone (``pip install
--dry-run --no-index``, pip's configuration files ignored): the bundle is checked to install on
each of them before it is zipped.

It needs pip and the index (PyPI or a mirror pip is configured for), and ``packaging`` only
if a dependency's marker names a platform.  It imports nothing of roundtable (the version is
the wheel's), so an installed roundtable can build a bundle from a wheel file (``--wheel``) as
well as a checkout can (``--source``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PYTHONS = ("3.11", "3.12", "3.13")


@dataclass(frozen=True)
class Target:
    """A platform of facilitators' laptops, as pip's ``--platform`` tags name it, and the
    values its environment markers take there."""

    name: str
    platforms: tuple[str, ...]
    markers: tuple[tuple[str, str], ...] = ()

    def environment(self, python: str) -> dict[str, str]:
        """PEP 508 marker values on this platform under CPython ``python``."""
        return {
            **dict(self.markers),
            "python_version": python,
            "python_full_version": f"{python}.0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
            "extra": "",
        }


def _markers(sys_platform: str, system: str, os_name: str, machine: str):
    return (
        ("sys_platform", sys_platform),
        ("platform_system", system),
        ("os_name", os_name),
        ("platform_machine", machine),
    )


TARGETS = (
    Target("windows-x86_64", ("win_amd64",), _markers("win32", "Windows", "nt", "AMD64")),
    # pip widens a macOS tag to every older macOS release of that architecture (and universal2)
    Target("macos-arm64", ("macosx_11_0_arm64",), _markers("darwin", "Darwin", "posix", "arm64")),
    Target(
        "macos-x86_64", ("macosx_10_13_x86_64",), _markers("darwin", "Darwin", "posix", "x86_64")
    ),
    Target(
        "linux-x86_64",
        ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"),
        _markers("linux", "Linux", "posix", "x86_64"),
    ),
)
PLATFORM_MARKERS = ("sys_platform", "platform_system", "os_name", "platform_machine")


class BundleError(Exception):
    """A step that failed: the message says which, and pip's own output says why."""


def _pip(args: Sequence[str], *, isolated: bool = False, quiet: bool = True) -> str:
    """Run this interpreter's pip; with ``isolated``, no configuration file, index or
    find-links of this machine is used (as on a laptop without the internet)."""
    env = dict(os.environ)
    if isolated:
        for key in list(env):
            if key.startswith("PIP_"):
                del env[key]
        env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    command = [sys.executable, "-m", "pip", *args]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        detail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise BundleError(f"pip {' '.join(args[:1])} failed:\n{detail}")
    if not quiet:
        print(result.stdout, end="")
    return result.stdout


def build_wheel(source: Path, directory: Path) -> Path:
    """roundtable's wheel from a checkout (its build backend fetched by pip)."""
    before = set(directory.glob("roundtable-*.whl"))
    _pip(["wheel", "--no-deps", "--wheel-dir", str(directory), str(source)])
    built = sorted(set(directory.glob("roundtable-*.whl")) - before) or sorted(
        directory.glob("roundtable-*.whl")
    )
    if not built:
        raise BundleError(f"{source}: pip wheel made no roundtable wheel")
    return built[-1]


def download(requirement: Path | str, wheels: Path, target: Target, python: str) -> None:
    """A wheel's dependencies (or a requirement's wheels) for one platform and Python
    version, into ``wheels``."""
    args = ["download", "--only-binary=:all:", "--dest", str(wheels)]
    for tag in target.platforms:
        args += ["--platform", tag]
    args += ["--python-version", python, "--implementation", "cp", str(requirement)]
    try:
        _pip(args)
    except BundleError as exc:
        raise BundleError(f"{target.name}, CPython {python}: {exc}") from None


def platform_requirements(wheels: Path) -> list[tuple[str, str, str]]:
    """(package, requirement, marker) of every dependency, in the folder's wheels, whose
    marker names the platform: pip evaluates those for the machine it runs on, not for
    ``--platform``, so they are fetched per target here (``fetch_platform_requirements``)."""
    found = []
    for wheel in sorted(wheels.glob("*.whl")):
        with zipfile.ZipFile(wheel) as z:
            name = next((n for n in z.namelist() if n.endswith(".dist-info/METADATA")), None)
            if name is None:
                continue
            text = z.read(name).decode("utf-8", "replace")
        for line in text.split("\n\n", 1)[0].splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            requirement, _, marker = line.removeprefix("Requires-Dist:").partition(";")
            if "extra" in marker or not any(m in marker for m in PLATFORM_MARKERS):
                continue
            found.append((wheel.name, requirement.strip(), marker.strip()))
    return found


def fetch_platform_requirements(
    wheels: Path, targets: Sequence[Target], pythons: Sequence[str]
) -> int:
    """Download, for each target whose markers they match, the dependencies whose markers name
    the platform, until none is left to fetch; how many were fetched.  Without the
    ``packaging`` library to read markers, such a dependency stops the bundle."""
    done: set[tuple[str, str, str]] = set()
    while True:
        todo = []
        for package, requirement, marker in platform_requirements(wheels):
            try:
                from packaging.markers import Marker
            except ImportError:
                raise BundleError(
                    f"{package} needs {requirement} where {marker}: install `packaging` so "
                    "the bundle can tell which platforms need it"
                ) from None
            for target in targets:
                for python in pythons:
                    key = (requirement, target.name, python)
                    if key not in done and Marker(marker).evaluate(target.environment(python)):
                        todo.append((key, target, python))
        if not todo:
            return len(done)
        for key, target, python in todo:
            done.add(key)
            download(key[0], wheels, target, python)


def resolve(wheels: Path, target: Target, python: str, requirement: str) -> list[str]:
    """What ``pip install --no-index --find-links wheels`` would install on that platform and
    version, from the folder alone: the names and versions, or BundleError."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        args = ["install", "--dry-run", "--ignore-installed", "--no-index"]
        args += ["--find-links", str(wheels), "--only-binary=:all:", "--report", str(report)]
        for tag in target.platforms:
            args += ["--platform", tag]
        args += ["--python-version", python, "--implementation", "cp", "--quiet", requirement]
        try:
            _pip(args, isolated=True)
        except BundleError as exc:
            raise BundleError(
                f"{target.name}, CPython {python}: the bundle does not install offline: {exc}"
            ) from None
        data = json.loads(report.read_text(encoding="utf-8"))
    return sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in data["install"])


INSTALL_SH = r"""#!/bin/sh
# Install roundtable {version} from this folder, without the internet (Linux, macOS).
#   sh install.sh [VENV]     (default VENV: $HOME/.local/roundtable)
# Needs Python 3.11, 3.12 or 3.13 (python.org, Homebrew, or the system's with its venv module).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
venv=${{1:-"$HOME/.local/roundtable"}}
python=""
for candidate in ${{PYTHON:-}} python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c \
        'import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))' 2>/dev/null; then
        python=$candidate
        break
    fi
done
if [ -z "$python" ]; then
    echo "install.sh: no Python 3.11-3.13 found; install one (python.org) or set PYTHON" >&2
    exit 1
fi
if ! "$python" -m venv "$venv"; then
    echo "install.sh: $python cannot make a virtual environment (Debian, Ubuntu:" \
        "sudo apt install python3-venv)" >&2
    exit 1
fi
"$venv/bin/python" -m pip install --disable-pip-version-check --quiet --upgrade \
    --no-index --find-links "$here/wheels" roundtable=={version}
mkdir -p "$HOME/.local/bin"
ln -sf "$venv/bin/roundtable" "$HOME/.local/bin/roundtable"
"$venv/bin/roundtable" --version
case ":$PATH:" in
    *":$HOME/.local/bin:"*) ;;
    *) echo "add $HOME/.local/bin to your PATH (or run $venv/bin/roundtable)" ;;
esac
echo "installed; check the laptop with: roundtable doctor"
"""

INSTALL_PS1 = r"""# Install roundtable {version} from this folder, without the internet (Windows).
#   powershell -ExecutionPolicy Bypass -File install.ps1 [-Venv DIR]
# Needs Python 3.11, 3.12 or 3.13 from python.org (with the `py` launcher) or the Microsoft Store.
# Windows PowerShell 5.1 and PowerShell 7 alike; no make, bash or WSL.
param([string]$Venv = "$env:LOCALAPPDATA\Programs\roundtable")
# "Continue": under "Stop", Windows PowerShell 5.1 turns a native command's stderr into an error
$ErrorActionPreference = "Continue"
function Fail([string]$Message) {{
    [Console]::Error.WriteLine("install.ps1: $Message")
    exit 1
}}
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$check = "import sys; sys.exit(not (3, 11) <= sys.version_info[:2] <= (3, 13))"
$python = $null
if (Get-Command py -ErrorAction SilentlyContinue) {{
    foreach ($version in "3.13", "3.12", "3.11") {{
        & py "-$version" -c $check 2>$null | Out-Null
        if ($LASTEXITCODE -eq 0) {{ $python = @("py", "-$version"); break }}
    }}
}}
if (-not $python) {{
    # "python" may be the Microsoft Store's alias, which only opens the Store: it fails the check
    foreach ($name in "python3", "python") {{
        if (Get-Command $name -ErrorAction SilentlyContinue) {{
            & $name -c $check 2>$null | Out-Null
            if ($LASTEXITCODE -eq 0) {{ $python = @($name); break }}
        }}
    }}
}}
if (-not $python) {{ Fail "no Python 3.11-3.13 found; install Python 3.13 from python.org" }}
$exe = $python[0]
$rest = @($python | Select-Object -Skip 1)
& $exe @rest -m venv $Venv
if ($LASTEXITCODE -ne 0) {{ Fail "cannot make the virtual environment $Venv" }}
& "$Venv\Scripts\python.exe" -m pip install --disable-pip-version-check --quiet --upgrade `
    --no-index --find-links "$here\wheels" "roundtable=={version}"
if ($LASTEXITCODE -ne 0) {{ Fail "pip could not install roundtable from $here\wheels" }}
$scripts = "$Venv\Scripts"
$userPath = [Environment]::GetEnvironmentVariable("Path", "User")
$parts = @()
if ($userPath) {{ $parts = $userPath -split ";" | Where-Object {{ $_ }} }}
if (-not ($parts -contains $scripts)) {{
    [Environment]::SetEnvironmentVariable("Path", (@($parts) + $scripts) -join ";", "User")
    Write-Output "added $scripts to your PATH: open a new Windows Terminal tab to use it"
}}
& "$scripts\roundtable.exe" --version
Write-Output "installed; check the laptop with: roundtable doctor (in Windows Terminal)"
"""

README = """roundtable {version}: offline installation bundle
{line}

Wheels for CPython {pythons} on {targets}.

Windows (PowerShell; no make or bash needed), in Windows Terminal:
    powershell -ExecutionPolicy Bypass -File install.ps1
Linux and macOS:
    sh install.sh
Or by hand, into a virtual environment of your choice:
    python -m venv VENV
    VENV/bin/python -m pip install --no-index --find-links wheels roundtable=={version}
    (Windows: VENV\\Scripts\\python.exe -m pip install --no-index --find-links wheels ...)
Or with pipx:
    pipx install --pip-args="--no-index --find-links wheels" wheels/{wheel}

Then: roundtable doctor   (checks the laptop; one line each, with its fix)
SHA256SUMS lists a checksum per file.
"""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _zip(folder: Path, archive: Path) -> None:
    """The folder as a zip, under its own name, with install.sh executable."""
    tmp = archive.with_name(archive.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            info = zipfile.ZipInfo.from_file(path, f"{folder.name}/{path.relative_to(folder)}")
            mode = 0o755 if path.name == "install.sh" else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, path.read_bytes())
    os.replace(tmp, archive)


def make_bundle(
    out: Path,
    *,
    source: Path | None = None,
    wheel: Path | None = None,
    targets: Sequence[Target] = TARGETS,
    pythons: Sequence[str] = PYTHONS,
    log=print,
) -> Path:
    """Write the bundle folder and its zip under ``out``; returns the folder."""
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=out) as tmp:
        if wheel is None:
            if source is None:
                raise BundleError("give --source DIR (a checkout) or --wheel FILE")
            log(f"building roundtable's wheel from {source}")
            wheel = build_wheel(source, Path(tmp))
        if not wheel.is_file() or not wheel.name.startswith("roundtable-"):
            raise BundleError(f"{wheel}: not a roundtable wheel")
        version = wheel.name.split("-")[1]
        folder = out / f"roundtable-{version}-offline"
        staging = Path(tmp) / folder.name
        wheels = staging / "wheels"
        wheels.mkdir(parents=True)
        shutil.copy2(wheel, wheels / wheel.name)
        for target in targets:
            for python in pythons:
                log(f"downloading for {target.name}, CPython {python}")
                download(wheels / wheel.name, wheels, target, python)
        extra = fetch_platform_requirements(wheels, targets, pythons)
        if extra:
            log(f"fetched {extra} dependencies that only some platforms need")
        for target in targets:
            for python in pythons:
                found = resolve(wheels, target, python, f"roundtable=={version}")
                log(f"checked {target.name}, CPython {python}: {len(found)} packages")
        fill = {"version": version}
        (staging / "install.sh").write_text(INSTALL_SH.format(**fill), newline="\n")
        (staging / "install.sh").chmod(0o755)
        (staging / "install.ps1").write_text(INSTALL_PS1.format(**fill), newline="\r\n")
        title = f"roundtable {version}: offline installation bundle"
        (staging / "README.txt").write_text(
            README.format(
                version=version,
                line="=" * len(title),
                pythons=", ".join(pythons),
                targets=", ".join(t.name for t in targets),
                wheel=wheel.name,
            )
        )
        files = sorted(p for p in staging.rglob("*") if p.is_file())
        sums = "".join(f"{_sha256(p)}  {p.relative_to(staging).as_posix()}\n" for p in files)
        (staging / "SHA256SUMS").write_text(sums, newline="\n")
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)
    archive = out / f"{folder.name}.zip"
    _zip(folder, archive)
    count = sum(1 for p in folder.rglob("*") if p.is_file())
    log(
        f"wrote {folder} ({count} files, {sum(1 for _ in (folder / 'wheels').iterdir())} wheels) "
        f"and {archive.name} ({archive.stat().st_size / 1024**2:.1f} MB)"
    )
    return folder


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m roundtable.bundle",
        description="Write the offline installation bundle (a folder and a zip).",
    )
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--source", type=Path, help="a roundtable checkout to build the wheel from")
    group.add_argument("--wheel", type=Path, help="roundtable's wheel, already built")
    parser.add_argument("--out", type=Path, default=Path("dist"), help="where (default: dist)")
    args = parser.parse_args(argv)
    source = args.source if args.wheel else (args.source or Path.cwd())
    try:
        make_bundle(args.out, source=source, wheel=args.wheel)
    except BundleError as exc:
        print(f"bundle: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
