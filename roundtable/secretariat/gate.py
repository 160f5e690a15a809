"""The one outward gate (issue 19): everything that leaves the secretariat — documents on the
API and the console, the console's pages, pulls, a record's history, carried actions, the
laptops' labels — is read through a function here that takes the reader (the token's
``TokenScope``: its event, its regions and its TLP ceiling) as a required argument.

``read`` is the one place a face gets sessions from: it loads the ops of the reader's regions
only and cuts every snapshot to the reader's ceiling before anything can render it, so a page
that forgets the ceiling has nothing above it to show.  Documents are rendered by ``View``'s
methods, which pass the ceiling on (the header then names the reader and what was withheld).
Routes never call ``repo.event_ops`` or ``minutes.render`` themselves; the route test
(tests/test_gate.py) walks the app's router and fetches every route with seeded markers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from roundtable import protocol
from roundtable.model import (
    LABELLED_KINDS,
    REGIONS,
    Event,
    SessionSnapshot,
    record_tlp,
    within,
)
from roundtable.secretariat import rawjson
from roundtable.secretariat.repository import (
    PageItem,
    Repository,
    TokenScope,
    in_session,
    op_dict,
    scope_clause,
)
from roundtable.snapshot import snapshots_from_docs

Reader = TokenScope
"""Who an answer is for: one event, some regions, a ceiling (a bearer token's scope)."""

Docs = dict[Any, dict[str, Any]]


def countries() -> dict[str, Any]:
    from sessions.roster import load_roster

    return dict(load_roster())


def within_ceiling(docs: Mapping[Any, dict[str, Any]], ceiling: str) -> Docs:
    """The merged docs a reader up to ``ceiling`` may see: labelled records (entries,
    speeches, action reviews) above it are left out, whatever their history."""
    defaults = {
        doc["id"]: str(doc["fields"].get("default_tlp", ""))
        for doc in docs.values()
        if doc["kind"] == "session"
    }
    out: Docs = {}
    for key, doc in docs.items():
        kind = doc["kind"]
        if kind in LABELLED_KINDS:
            label = record_tlp(
                kind, str(doc["fields"].get("tlp", "")), defaults.get(doc["session_id"], "")
            )
            if not within(label, ceiling):
                continue
        out[key] = doc
    return out


@dataclass
class View:
    """What one reader may see of its event, read once: snapshots already cut to its ceiling,
    the merged docs within it (for conflicts), each room's last sync."""

    reader: Reader
    event: Event
    snaps: list[SessionSnapshot]
    docs: Docs
    last_sync: dict[str, dt.datetime]
    countries: dict[str, Any]
    now: dt.datetime
    labels: dict[str, str] = field(default_factory=dict)  # device -> its laptop's label

    @property
    def names(self) -> dict[str, str]:
        return {code: c.name for code, c in self.countries.items()}

    @property
    def regions(self) -> list[str]:
        return [r for r in REGIONS if self.reader.allows_region(r)]

    def conflicts(self) -> dict[str, Any]:
        """The entries' conflicts as every face words them (``roundtable.conflicts``): people
        named by their laptop's label, as the laptops name them."""
        from roundtable import conflicts

        entries = (d for d in self.docs.values() if d.get("kind") == "entry")
        return conflicts.gather(entries, conflicts.labelled(self.labels))

    def minutes(self, snap: SessionSnapshot, fmt: str, lang: str) -> str:
        from roundtable import minutes

        return minutes.render(
            snap, fmt, lang=lang, conflicts=self.conflicts(), ceiling=self.reader.max_tlp
        )

    def reported(self, focus: str | None = None) -> list[SessionSnapshot]:
        """The snapshots a report or a brief covers: an archived session (issue 22) is in
        none, unless it is the session a brief is asked for by id."""
        return [s for s in self.snaps if s.session.status != "archived" or s.session.id == focus]

    def report(self, repo: Repository, fmt: str, lang: str) -> str:
        from roundtable import report

        last_sync = {
            sid: at.replace(microsecond=0).isoformat() for sid, at in self.last_sync.items()
        }
        rep = report.build_report(
            self.event,
            self.reported(),
            self.countries,
            lang=lang,
            last_sync=last_sync,
            conflicts=self.conflicts(),
            regions=None if self.reader.all_regions else sorted(self.reader.regions),
            carried=carried(repo, self.reader, self.reader.event_id),
            ceiling=self.reader.max_tlp,
        )
        return report.render(rep, fmt)

    def brief(self, code: str, focus: str | None, fmt: str, lang: str) -> str:
        from roundtable.documents import brief_text

        return brief_text(
            code,
            self.reported(focus),
            focus=focus,
            fmt=fmt,
            lang=lang,
            as_of=self.now.replace(microsecond=0),
            countries=self.names,
            conflicts=self.conflicts(),
            ceiling=self.reader.max_tlp,
        )


V = TypeVar("V", bound=View)


def _named_within(snap: SessionSnapshot) -> SessionSnapshot:
    """The cut snapshot naming only the delegations its kept records name: a delegation named
    in a withheld entry alone is not listed to this reader (the console's delegations)."""
    if not (snap.withheld or snap.withheld_speeches):
        return snap
    codes = {a.country for a in snap.attendance} | {sp.country for sp in snap.speeches}
    for e in snap.entries:
        codes.update(e.delegations)
        codes.add(e.owner)
    codes |= {r.owner for r in snap.action_reviews}
    countries = {c: n for c, n in snap.countries.items() if c in codes}
    return dataclasses.replace(snap, countries=countries)


def read(
    repo: Repository,
    reader: Reader,
    now: float,
    *,
    session_id: str | None = None,
    into: type[V] = View,  # type: ignore[assignment]
) -> V:
    """The reader's view of its event (of one session of it, with ``session_id``): only its
    regions' ops are read, and every snapshot is cut to its ceiling here."""
    from roundtable.documents.audience import cut_all

    event_id = reader.event_id
    where = scope_clause(reader)
    if session_id is not None:
        clause, args = in_session(session_id)
        where = (f"{where[0]} AND {clause}", [*where[1], *args])
    docs = protocol.merge_ops(repo.event_ops(event_id, *where))
    known = countries()
    event, snaps = snapshots_from_docs(docs.values(), {c: k.name for c, k in known.items()})
    if event is None:
        found = repo.find_event(event_id)
        event = Event(id=event_id, name=found[1] if found else "")
    last_sync = {
        sid: dt.datetime.fromtimestamp(at, dt.UTC)
        for sid, at in repo.last_received(event_id, *where).items()
    }
    return into(
        reader=reader,
        event=event,
        snaps=[_named_within(snap) for snap in cut_all(snaps, reader.max_tlp)],
        docs=within_ceiling(docs, reader.max_tlp),
        last_sync=last_sync,
        countries=known,
        now=dt.datetime.fromtimestamp(now, dt.UTC),
        labels=labels(repo, reader),
    )


# -- records ------------------------------------------------------------------------------------


def stamp(repo: Repository, reader: Reader) -> str:
    """A short digest that changes whenever ops arrive for a session the reader sees (the
    console's pages poll it to reload)."""
    import hashlib

    received = repo.last_received(reader.event_id, *scope_clause(reader))
    text = ";".join(f"{sid}={at!r}" for sid, at in sorted(received.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def event_fields(repo: Repository, reader: Reader) -> tuple[str, dict[str, Any]] | None:
    """(name, current fields) of the reader's event, or None when it is not on the server."""
    found = repo.find_event(reader.event_id)
    if found is None:
        return None
    docs = protocol.merge_ops(repo.event_ops(reader.event_id, "kind = 'event'"))
    return found[1], docs.get(("event", reader.event_id), {}).get("fields", {})


def sessions(repo: Repository, reader: Reader) -> list[tuple[str, dict[str, Any]]]:
    """(session id, current fields) of the live sessions in the reader's regions."""
    clause, args = scope_clause(reader)
    docs = protocol.merge_ops(
        repo.event_ops(reader.event_id, f"kind = 'session' AND {clause}", args)
    )
    return [(sid, doc["fields"]) for (_, sid), doc in sorted(docs.items())
            if not doc["fields"].get("deleted")]  # fmt: skip


def pull_page(
    repo: Repository,
    reader: Reader,
    since: int,
    limit: int,
    exclude: str = "",
    version: int = protocol.PROTOCOL_VERSION,
) -> dict[str, Any]:
    """A page of ops for the reader (its regions, its ceiling: ``Repository.pull_page``),
    in the protocol ``version`` the laptop speaks (ops of fields or values it does not know
    are left out, the cursor still moves past them), and, for a laptop asking (``exclude`` = its
    device), the labels of the devices in its scope.  ``pull_json`` gives its bytes."""
    items, next_, more, names = _pull_items(repo, reader, since, limit, exclude, version)
    page: dict[str, Any] = {"ops": [op_dict(item) for item in items], "next": next_, "more": more}
    if version > 1:  # a first-version page named none: the same bytes for those laptops
        page = {"protocol": version, **page}
    if names is not None:
        page["labels"] = names
    return page


def pull_json(
    repo: Repository,
    reader: Reader,
    since: int,
    limit: int,
    exclude: str = "",
    version: int = protocol.PROTOCOL_VERSION,
) -> bytes:
    """``pull_page`` as the bytes the API sends (the same bytes as ``JSONResponse`` of it),
    written from the stored ops' JSON text without decoding them (``rawjson``)."""
    items, next_, more, names = _pull_items(repo, reader, since, limit, exclude, version)
    ops = [rawjson.row_json(i) if isinstance(i, tuple) else rawjson.compact(i) for i in items]
    return rawjson.page_json(ops, next_, more, version, names)


def _pull_items(
    repo: Repository, reader: Reader, since: int, limit: int, exclude: str, version: int
) -> tuple[list[PageItem], int, bool, dict[str, str] | None]:
    event_id = reader.event_id
    items, next_, more = repo.pull_rows(event_id, since, limit, reader, exclude)
    if exclude and not more:
        # every other op up to the event's last final one is in this page: skip past our own
        # ones for good
        next_ = max(next_, repo.page_top)
    if version < protocol.PROTOCOL_VERSION:
        # ops of fields, or of values (``session.status`` "archived"), it does not know
        items = [item for item in items if _fits(item, version)]
    return items, next_, more, labels(repo, reader) if exclude else None


def _fits(item: PageItem, version: int) -> bool:
    """Can this page op travel to a laptop of ``version``?  A stored value is decoded only
    for the fields some of whose values came later (``protocol.VALUES_SINCE``)."""
    if not isinstance(item, tuple):
        return protocol.value_version(item["kind"], item["field"], item["value"]) <= version
    kind, field = item[5], item[6]
    value = json.loads(item[7]) if (kind, field) in protocol.VALUED_FIELDS else None
    return protocol.value_version(kind, field, value) <= version


def labels(repo: Repository, reader: Reader) -> dict[str, str]:
    """device -> label, of the devices whose region scope the reader's covers (issue 19: a
    laptop learns the names of its own region's laptops, not every region's)."""
    return repo.labels(reader.event_id, reader)


def history(repo: Repository, reader: Reader, record_id: str) -> list[dict] | None:
    """Every stored version of a record the reader may see, oldest first; None when there is
    none for it (unknown, or above its ceiling); ``PermissionError`` when the record is of a
    session outside its regions."""
    event_id = reader.event_id
    rows = repo.history(event_id, record_id)
    first = rows[0] if rows else None
    if first is None or repo.above_ceiling(
        event_id, [(first["kind"], record_id, first["session_id"])], reader.max_tlp
    ):  # a record above the token's ceiling is not there for it (issue 14)
        return None
    sids = {r["session_id"] for r in rows if r["session_id"]}
    known = repo.sessions(sorted(sids))
    for sid in sids:
        if not reader.allows_region(known.get(sid, ("", ""))[1]):
            raise PermissionError(f"record {record_id}: outside this token's regions")
    return rows


def carried(repo: Repository, reader: Reader, before: str, *, only_open: bool = False) -> list:
    """The earlier conferences' actions of every region the reader may see, none above its
    ceiling (the report's section 7 and the console's report)."""
    found = [
        a
        for r in REGIONS
        if reader.allows_region(r)
        for a in carried_for(repo, r, before, only_open=only_open)
    ]
    return cut_carried(found, reader)


def carried_in_region(
    repo: Repository, reader: Reader, region: str, before: str, *, only_open: bool = False
) -> list:
    """One region's carried actions for the reader (the caller checked the region)."""
    if not reader.allows_region(region):
        return []
    return cut_carried(carried_for(repo, region, before, only_open=only_open), reader)


def cut_carried(actions: list, reader: Reader) -> list:
    from roundtable.documents.audience import cut_carried as cut

    return cut(actions, reader.max_tlp)


def carried_for(repo: Repository, region: str, before: str, *, only_open: bool = False) -> list:
    """The region's actions of events before ``before`` with their history, uncut (only the
    functions above hand them out)."""
    from roundtable.actions import carried_actions, sources_from_records
    from roundtable.snapshot import record_from_doc

    docs = protocol.merge_ops(repo.region_action_ops(region, before))
    records = [record_from_doc(d) for d in docs.values()]
    return carried_actions(sources_from_records(records), region, before, only_open=only_open)
