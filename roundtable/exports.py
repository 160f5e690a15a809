"""Export to file: the one orchestration the app and the command line call (issue 21).

Not pure (it writes files): it moved out of ``roundtable.documents``, which stays pure.  A
minutes export is one snapshot, one version from the saved history (``documents.versions``:
one numbering rule for every face), one text, one file.  The export counter lives beside the
files: ``<stem>.versions.json`` lists the fingerprints of the records saved as drafts and as
finals, in order, so a draft's number says which state of the records it shows, the same for
Markdown and HTML and in every language.  A name that is taken by other bytes gets ``-2``,
``-3``…; an existing file with the same bytes is left as it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from roundtable.documents.versions import (
    DRAFT,
    REISSUED,
    Version,
    brief_name,
    file_name,
    fingerprint,
    stem,
    version_for,
)
from roundtable.model import SessionSnapshot

__all__ = [
    "MinutesExport",
    "brief_name",
    "default_language",
    "file_name",
    "history_path",
    "minutes_export",
    "next_version",
    "read_history",
    "save",
    "save_minutes",
    "write_new",
]


def history_path(directory: Path, snap: SessionSnapshot) -> Path:
    return directory / f"{stem(snap)}.versions.json"


def read_history(directory: Path, snap: SessionSnapshot) -> dict[str, Any]:
    """The saved states; an unreadable history counts as none (the files stay)."""
    try:
        data = json.loads(history_path(directory, snap).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"drafts": [], "finals": []}
    if not isinstance(data, dict):
        return {"drafts": [], "finals": []}
    out: dict[str, Any] = {
        k: [str(x) for x in data.get(k, []) if isinstance(x, str)] for k in ("drafts", "finals")
    }
    if data.get("first_final_reissued") is True:
        out["first_final_reissued"] = True
    return out


def next_version(
    directory: Path, snap: SessionSnapshot, conflicts: Any = None
) -> tuple[Version, str]:
    """The version these records get (and their fingerprint), from the saved history."""
    print_ = fingerprint(snap, conflicts)
    return version_for(snap, read_history(directory, snap), print_), print_


def write_new(directory: Path, name: str, content: str) -> Path:
    """Write ``content`` as ``name`` in ``directory``, or beside it as ``<stem>-2``, ``-3``…
    when the name holds other bytes; a file with these very bytes is left as it is."""
    from roundtable.osfiles import atomic_write_text, private_dirs

    private_dirs(directory)  # files and directories owner-only, as the home (issue 19)
    path = directory / name
    stem_, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while path.exists():
        if path.read_text(encoding="utf-8", errors="replace") == content:
            return path
        n += 1
        path = directory / f"{stem_}-{n}{suffix}"
    atomic_write_text(path, content)
    return path


def save(
    directory: Path,
    snap: SessionSnapshot,
    version: Version,
    print_: str,
    lang: str,
    fmt: str,
    content: str,
    audience: str = "participants",
) -> Path:
    """Write the document under its numbered name and record the state in the history."""
    from roundtable.osfiles import atomic_write_text

    path = write_new(directory, file_name(snap, version, lang, fmt, audience), content)
    history = read_history(directory, snap)
    key = "drafts" if version.kind == DRAFT else "finals"
    if print_ not in history[key]:
        if key == "finals" and not history["finals"] and version.kind == REISSUED:
            history["first_final_reissued"] = True
        history[key].append(print_)
        atomic_write_text(history_path(directory, snap), json.dumps(history, indent=1) + "\n")
    return path


@dataclass(frozen=True)
class MinutesExport:
    """One minutes export: the snapshot it was made from, its version and text."""

    snap: SessionSnapshot
    version: Version
    fingerprint: str
    text: str
    lang: str
    fmt: str
    audience: str


def minutes_export(
    directory: Path,
    snap: SessionSnapshot,
    conflicts: Any,
    *,
    fmt: str,
    lang: str,
    audience: str = "participants",
) -> MinutesExport:
    """The minutes of one snapshot as an export would save them now (numbered from the
    history in ``directory``): every face previews and saves through this."""
    from roundtable.documents import minutes_text

    version, print_ = next_version(directory, snap, conflicts)
    text = minutes_text(
        snap, fmt=fmt, lang=lang, version=version, conflicts=conflicts, audience=audience
    )
    return MinutesExport(snap, version, print_, text, lang, fmt, audience)


def save_minutes(directory: Path, export: MinutesExport) -> Path:
    """Save an export under its numbered name (the snapshot it was made from: one snapshot
    per export)."""
    return save(
        directory,
        export.snap,
        export.version,
        export.fingerprint,
        export.lang,
        export.fmt,
        export.text,
        export.audience,
    )


def default_language(setting: str, plan_name: str) -> str:
    """The documents' language when none is asked for: the `language` setting, else the
    language of the plan the session was made from (built-in or the user's), else English."""
    if setting:
        return setting
    if plan_name:
        import sessions as plans
        from roundtable.config import plans_dir

        found = [p for p in plans.builtin_plans().values() if p.name == plan_name]
        if not found:
            found = [p for p in plans.user_plans(plans_dir())[0] if p.name == plan_name]
        if found and found[0].language:
            return found[0].language
    return "en"
