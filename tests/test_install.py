"""The artefacts an IT officer installs (issue 27), checked as they are shipped: the wheel and
the sdist built from this checkout, the wheel installed (not editable) into a fresh virtual
environment, and the offline bundle installed by its own install.sh with ``--no-index`` into
another; each then runs the smoke a facilitator's laptop needs: ``--version``, ``demo``,
``add``, ``export --lang ar --format html``, ``plans``, ``doctor`` and the app's first screen.

e2e tier (`make e2e`): the point is real processes, the index and pip.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("roundtable", "widgets", "sessions")
NEED = "/need Training on cyber forensics for NCB staff @ZM !high #cybercrime"

FIRST_SCREEN = """
import asyncio, json
from roundtable.app import RoundtableApp

async def main():
    app = RoundtableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        first = type(app.screen).__name__
        rows = app.screen.query_one("#sessions").row_count
        await pilot.press("enter")
        await pilot.pause()
        opened = type(app.screen).__name__
    print(json.dumps({"first": first, "rows": rows, "opened": opened}))

asyncio.run(main())
"""


def _clean_env(**extra: str) -> dict[str, str]:
    """This test's environment without anything that could reach the checkout's code or the
    user's roundtable (PYTHONPATH, ROUNDTABLE_*, a virtualenv's variables)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ROUNDTABLE_", "PYTHON", "VIRTUAL_ENV", "PYTEST"))
    }
    env.update(extra)
    return env


def _offline_env(**extra: str) -> dict[str, str]:
    """As a laptop without the internet: no pip configuration, index or find-links of this
    machine (pip's own files ignored)."""
    env = {k: v for k, v in _clean_env(**extra).items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _run(args: list[str], *, env: dict[str, str], cwd: Path, timeout: float = 600) -> str:
    result = subprocess.run(args, capture_output=True, text=True, env=env, cwd=cwd, timeout=timeout)
    assert result.returncode == 0, f"{args[:3]}...: {result.stdout[-2000:]}{result.stderr[-3000:]}"
    return result.stdout


def _venv(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    return path / ("Scripts" if os.name == "nt" else "bin")


def smoke(bin_dir: Path, work: Path) -> dict[str, str]:
    """The laptop's smoke in an installed environment, on a fresh home; returns what it saw."""
    home = work / "home"
    env = _clean_env(ROUNDTABLE_HOME=str(home), ROUNDTABLE_CONFIG=str(home / "settings.toml"))
    rt = str(bin_dir / "roundtable")
    python = str(bin_dir / "python")

    where = _run([python, "-c", "import roundtable; print(roundtable.__file__)"], env=env, cwd=work)
    assert "site-packages" in where and str(ROOT) not in where, where  # not the checkout

    version = _run([rt, "--version"], env=env, cwd=work).strip()
    assert version.startswith("roundtable 0."), version
    session_id = _run([rt, "demo"], env=env, cwd=work).strip()
    assert len(session_id) == 36
    entry_id = _run([rt, "add", session_id[:8], NEED], env=env, cwd=work).strip()
    assert len(entry_id) == 36
    minutes = work / "minutes-ar.html"
    _run(
        [rt, "export", session_id, "--lang", "ar", "--format", "html", "-o", str(minutes)],
        env=env,
        cwd=work,
    )
    html = minutes.read_text(encoding="utf-8")
    assert 'lang="ar"' in html and 'dir="rtl"' in html
    assert "Training on cyber forensics for NCB staff" in html
    assert "زامبيا" in html  # Zambia, from the catalogs and CLDR in the installed package
    plans = _run([rt, "plans"], env=env, cwd=work).splitlines()
    assert sorted(line.split("\t")[0] for line in plans) == [
        "africa", "americas", "asia-pacific", "europe", "mena",
    ]  # fmt: skip
    doctor = subprocess.run(
        [rt, "doctor"], capture_output=True, text=True, env=env, cwd=work, timeout=120
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    assert f"session {session_id[:8]}" in doctor.stdout
    assert doctor.stdout.splitlines()[-1].endswith("all well")
    script = work / "first_screen.py"
    script.write_text(FIRST_SCREEN, encoding="utf-8")
    seen = json.loads(_run([python, str(script)], env=env, cwd=work, timeout=300))
    assert seen == {"first": "HomeScreen", "rows": 1, "opened": "RunScreen"}, seen
    return {"version": version, "session": session_id}


def _source_data_files() -> set[str]:
    """The package data of the checkout: every file under the packages that is not Python."""
    found = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                found.add(path.relative_to(ROOT).as_posix())
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """The wheel and the sdist, built from the checkout by `python -m build`."""
    out = tmp_path_factory.mktemp("dist")
    _run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        env=_clean_env(),
        cwd=out,
    )
    (wheel,) = out.glob("roundtable-*.whl")
    (sdist,) = out.glob("roundtable-*.tar.gz")
    yield wheel, sdist


def test_wheel_and_sdist_hold_the_package_data(built: tuple[Path, Path]) -> None:
    wheel, sdist = built
    assert wheel.name.endswith("-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_source_data_files() - names)
    assert missing == [], f"files of the checkout's packages missing from the wheel: {missing}"
    for needed in (
        "roundtable/locale/ar/LC_MESSAGES/roundtable.po",
        "roundtable/locale/fr/LC_MESSAGES/roundtable.po",
        "roundtable/app.tcss",
        "sessions/plans/africa.toml",
        "sessions/data/countries.csv",
        "roundtable/secretariat/templates/base.html",
        "roundtable/secretariat/static/console.css",
    ):
        assert needed in names, needed
    metadata = next(n for n in names if n.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Requires-Python: >=3.11" in text and "Provides-Extra: server" in text
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "roundtable = roundtable.cli:main" in zipfile.ZipFile(wheel).read(entry_points).decode()

    import tarfile

    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[1] for m in tar.getmembers() if "/" in m.name}
    for needed in ("pyproject.toml", "README.md", "Makefile", "sessions/plans/mena.toml"):
        assert needed in members, needed
    assert _source_data_files() <= members


@pytest.mark.timeout(900)
def test_the_wheel_installs_non_editable_and_runs(built: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, _sdist = built
    bin_dir = _venv(tmp_path / "venv")
    started = time.monotonic()
    _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        env=_clean_env(),
        cwd=tmp_path,
    )
    listed = _run([str(bin_dir / "python"), "-m", "pip", "list", "--editable"], env=_clean_env(),
                  cwd=tmp_path)  # fmt: skip
    assert "roundtable" not in listed  # a real install, not a link to the checkout
    smoke(bin_dir, tmp_path)
    print(f"wheel install and smoke: {time.monotonic() - started:.1f} s")


@pytest.mark.timeout(900)
def test_the_offline_bundle_installs_without_the_index(
    built: tuple[Path, Path], tmp_path: Path
) -> None:
    wheel, _sdist = built
    started = time.monotonic()
    _run(
        [sys.executable, "-m", "roundtable.bundle", "--wheel", str(wheel), "--out",
         str(tmp_path / "out")],
        env=_clean_env(PYTHONPATH=str(ROOT)),
        cwd=ROOT,
        timeout=900,
    )  # fmt: skip
    built_in = time.monotonic() - started
    (folder,) = [p for p in (tmp_path / "out").iterdir() if p.is_dir()]
    archive = folder.with_name(folder.name + ".zip")
    assert archive.is_file()
    for name in ("install.sh", "install.ps1", "README.txt", "SHA256SUMS"):
        assert (folder / name).is_file(), name
    assert "--no-index --find-links" in (folder / "install.sh").read_text()
    assert "--no-index --find-links" in (folder / "install.ps1").read_text()
    wheels = sorted(p.name for p in (folder / "wheels").iterdir())
    assert all(name.endswith(".whl") for name in wheels), wheels  # never a source package
    assert wheel.name in wheels
    # the compiled dependency, per platform and CPython version; pure ones once, for any
    for py in ("311", "312", "313"):
        for platform in ("win_amd64", "macosx_", "manylinux"):
            tags = [n for n in wheels if n.startswith("cffi-") and f"-cp{py}-" in n]
            assert any(platform in n for n in tags), (py, platform, wheels)
    for platform in ("win_amd64", "arm64", "x86_64.", "manylinux"):
        assert any(n.startswith("cryptography-") and platform in n for n in wheels), platform
    for pure in ("textual-8.2.8-", "httpx-", "babel-", "tinydb-", "platformdirs-"):
        (name,) = [n for n in wheels if n.startswith(pure)]
        assert name.endswith("-py3-none-any.whl"), name
    assert not any(n.startswith(("fastapi-", "uvicorn-", "psycopg")) for n in wheels)
    with zipfile.ZipFile(archive) as z:
        assert f"{folder.name}/install.sh" in z.namelist()
        mode = z.getinfo(f"{folder.name}/install.sh").external_attr >> 16
        assert mode & 0o111, oct(mode)
        assert len(z.namelist()) == sum(1 for p in folder.rglob("*") if p.is_file())

    # the Linux part, by the bundle's own script, with pip told of nothing but the folder
    venv = tmp_path / "laptop-venv"
    fake_home = tmp_path / "user"
    fake_home.mkdir()
    started = time.monotonic()
    out = _run(
        ["sh", str(folder / "install.sh"), str(venv)],
        env=_offline_env(HOME=str(fake_home)),
        cwd=tmp_path,
    )
    assert "roundtable 0." in out and "roundtable doctor" in out
    assert (fake_home / ".local" / "bin" / "roundtable").resolve() == (
        venv / "bin" / "roundtable"
    ).resolve()
    smoke(venv / "bin", tmp_path)
    print(
        f"bundle: built in {built_in:.1f} s, {len(wheels)} wheels, "
        f"{archive.stat().st_size / 1024**2:.1f} MB zipped; offline install and smoke "
        f"{time.monotonic() - started:.1f} s"
    )


def test_a_dependency_without_a_wheel_stops_the_bundle(tmp_path: Path) -> None:
    """docopt is published as a source package only: no laptop could install it offline
    without a compiler toolchain's worth of luck, so the bundle refuses, naming it."""
    from roundtable import bundle

    with pytest.raises(bundle.BundleError) as info:
        bundle.download("docopt==0.6.2", tmp_path, bundle.TARGETS[0], "3.12")
    message = str(info.value)
    assert message.startswith("windows-x86_64, CPython 3.12: pip download failed")
    assert "docopt" in message
    assert list(tmp_path.iterdir()) == []
