"""Saving minutes into the exports directory: numbered, never silently overwritten.

The one part of ``roundtable.documents`` that touches files (the app and the CLI call it; the
server never saves).  The export counter lives beside the files: ``<stem>.versions.json`` lists
the fingerprints of the records saved as drafts and as finals, in order, so a draft's number
says which state of the records it shows, the same for Markdown and HTML and in every
language.  A name that is taken by other bytes gets ``-2``, ``-3``…; an existing file with the
same bytes is left as it is.
"""

from __future__ import annotations

import json
from pathlib import Path

from roundtable.documents.versions import DRAFT, Version, fingerprint, version_for
from roundtable.model import SessionSnapshot


def stem(snap: SessionSnapshot) -> str:
    s = snap.session
    return f"{s.date or 'undated'}-{s.region}-{s.id[:8]}-minutes"


def history_path(directory: Path, snap: SessionSnapshot) -> Path:
    return directory / f"{stem(snap)}.versions.json"


def read_history(directory: Path, snap: SessionSnapshot) -> dict[str, list[str]]:
    """The saved states; an unreadable history counts as none (the files stay)."""
    try:
        data = json.loads(history_path(directory, snap).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"drafts": [], "finals": []}
    if not isinstance(data, dict):
        return {"drafts": [], "finals": []}
    return {
        k: [str(x) for x in data.get(k, []) if isinstance(x, str)] for k in ("drafts", "finals")
    }


def next_version(directory: Path, snap: SessionSnapshot, conflicts=None) -> tuple[Version, str]:
    """The version these records get (and their fingerprint), from the saved history."""
    print_ = fingerprint(snap, conflicts)
    return version_for(snap, read_history(directory, snap), print_), print_


def _for(audience: str) -> str:
    """The audience in a file name; the default audience's files keep their plain names."""
    from roundtable.documents.audience import DEFAULT_AUDIENCE, check_audience

    return "" if check_audience(audience) == DEFAULT_AUDIENCE else f"-{audience}"


def file_name(
    snap: SessionSnapshot, version: Version, lang: str, fmt: str, audience: str = "participants"
) -> str:
    return f"{stem(snap)}-{lang}{_for(audience)}-{version.file_suffix()}.{fmt}"


def write_new(directory: Path, name: str, content: str) -> Path:
    """Write ``content`` as ``name`` in ``directory``, or beside it as ``<stem>-2``, ``-3``…
    when the name holds other bytes; a file with these very bytes is left as it is."""
    from roundtable.osfiles import atomic_write_text, private_dirs

    private_dirs(directory)  # files and directories owner-only, as the home (issue 19)
    path = directory / name
    stem, suffix = Path(name).stem, Path(name).suffix
    n = 1
    while path.exists():
        if path.read_text(encoding="utf-8", errors="replace") == content:
            return path
        n += 1
        path = directory / f"{stem}-{n}{suffix}"
    atomic_write_text(path, content)
    return path


def brief_name(
    snap: SessionSnapshot, delegation: str, lang: str, fmt: str, audience: str = "participants"
) -> str:
    base = stem(snap).removesuffix("-minutes")
    return f"{base}-brief-{delegation}-{lang}{_for(audience)}.{fmt}"


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
        history[key].append(print_)
        atomic_write_text(history_path(directory, snap), json.dumps(history, indent=1) + "\n")
    return path


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
