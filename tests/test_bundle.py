"""The offline bundle's builder (roundtable/bundle.py), the parts that need no index: which
platform-only dependencies it fetches for which laptops, and a wrong wheel refused.  Building
and installing a real bundle is in tests/test_install.py (e2e)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from roundtable import bundle


def _wheel(folder: Path, name: str, requires: list[str]) -> Path:
    path = folder / f"{name}-1.0-py3-none-any.whl"
    metadata = "Metadata-Version: 2.1\nName: {}\nVersion: 1.0\n{}\n\nA description.\n".format(
        name, "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{name}-1.0.dist-info/METADATA", metadata)
    return path


def test_platform_only_dependencies_are_found(tmp_path: Path) -> None:
    _wheel(
        tmp_path,
        "richish",
        [
            "colorama>=0.4; sys_platform == 'win32'",
            "typing-extensions>=4; python_version < '3.13'",
            "pywin32; platform_system == 'Windows' and extra == 'win'",
            "markdown-it-py>=3",
        ],
    )
    assert bundle.platform_requirements(tmp_path) == [
        ("richish-1.0-py3-none-any.whl", "colorama>=0.4", "sys_platform == 'win32'")
    ]


def test_they_are_fetched_for_the_platforms_that_need_them_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _wheel(tmp_path, "richish", ["colorama>=0.4; sys_platform == 'win32'"])
    _wheel(
        tmp_path, "xattrish", ["xattr; sys_platform == 'darwin' and platform_machine == 'arm64'"]
    )
    fetched: list[tuple[str, str, str]] = []
    monkeypatch.setattr(
        bundle, "download", lambda req, _w, target, py: fetched.append((str(req), target.name, py))
    )
    count = bundle.fetch_platform_requirements(tmp_path, bundle.TARGETS, bundle.PYTHONS)
    assert count == 6
    assert sorted(fetched) == sorted(
        [("colorama>=0.4", "windows-x86_64", py) for py in bundle.PYTHONS]
        + [("xattr", "macos-arm64", py) for py in bundle.PYTHONS]
    )


def test_a_wheel_that_is_not_roundtable_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = _wheel(tmp_path, "other", [])
    code = bundle.main(["--wheel", str(other), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and err == [f"bundle: {other}: not a roundtable wheel"]
    assert not list((tmp_path / "out").glob("roundtable-*"))
