"""Three replicas with skewed, backward-stepping clocks and reordered, duplicated delivery converge.

A hypothesis state machine: each replica writes fields of a few shared records with its own
HlcClock (wall clocks offset by minutes and stepping back), ops travel through a network that
delivers them in any order, any number of times, and at the end every replica that received
every op holds the same documents as a replica that applied them in order.
"""

from __future__ import annotations

from budget import count
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, precondition, rule

from roundtable import protocol
from roundtable.model import HlcClock, Op, new_id

EVENT = "01900000-0000-7000-8000-000000000001"
SESSION = "01900000-0000-7000-8000-000000000002"
RECORDS = ["01900000-0000-7000-8000-00000000000a", "01900000-0000-7000-8000-00000000000b"]
FIELDS = ["text", "priority", "owner"]
DEVICES = ["lap-a", "lap-b", "lap-c"]


class Wall:
    def __init__(self, start: float) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now


class Replicas(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.walls = [Wall(1_800_000_000.0 + skew) for skew in (0.0, 300.0, -240.0)]
        self.clocks = [HlcClock(d, w) for d, w in zip(DEVICES, self.walls, strict=True)]
        self.docs: list[dict] = [{}, {}, {}]
        self.sent: list[Op] = []
        self.inbox: list[list[Op]] = [[], [], []]

    def _receive(self, r: int, op: Op) -> None:
        from roundtable.model import Hlc

        protocol.merge_ops([op], self.docs[r])
        self.clocks[r].observe(Hlc.parse(op.hlc))

    @rule(
        r=st.integers(0, 2),
        record=st.sampled_from(RECORDS),
        field=st.sampled_from(FIELDS),
        value=st.text(max_size=5),
    )
    def write(self, r: int, record: str, field: str, value: str) -> None:
        doc = self.docs[r].get(("entry", record))
        hlc = self.clocks[r].now()
        op = Op(new_id(), EVENT, SESSION, record, "entry", field, value, hlc.encode(),
                hlc.device, protocol.field_base(doc, field))  # fmt: skip
        self._receive(r, op)
        self.sent.append(op)
        for other in range(3):
            if other != r:
                self.inbox[other].append(op)

    @rule(r=st.integers(0, 2), record=st.sampled_from(RECORDS), restore=st.booleans())
    def delete_or_restore(self, r: int, record: str, restore: bool) -> None:
        """A delete lists what its writer saw (``delete_base``); a restore replaces it."""
        doc = self.docs[r].get(("entry", record))
        hlc = self.clocks[r].now()
        base = protocol.field_base(doc, "deleted") if restore else protocol.delete_base(doc)
        op = Op(new_id(), EVENT, SESSION, record, "entry", "deleted", not restore, hlc.encode(),
                hlc.device, base)  # fmt: skip
        self._receive(r, op)
        self.sent.append(op)
        for other in range(3):
            if other != r:
                self.inbox[other].append(op)

    @rule(r=st.integers(0, 2), seconds=st.floats(-120, 120))
    def clock_steps(self, r: int, seconds: float) -> None:
        self.walls[r].now += seconds  # may step backwards

    @precondition(lambda self: any(self.inbox))
    @rule(r=st.integers(0, 2), pick=st.integers(0, 10_000), duplicate=st.booleans())
    def deliver(self, r: int, pick: int, duplicate: bool) -> None:
        if not self.inbox[r]:
            return
        op = self.inbox[r][pick % len(self.inbox[r])]
        if not duplicate:
            self.inbox[r].remove(op)
        self._receive(r, op)

    def teardown(self) -> None:
        for r in range(3):
            for op in list(self.inbox[r]):
                self._receive(r, op)
        reference = protocol.merge_ops(reversed(self.sent))
        for r in range(3):
            assert self.docs[r] == reference, f"replica {r} diverged"
            for key, doc in reference.items():
                # the same conflicts, delete-versus-edit included, on every replica
                assert protocol.delete_conflict(self.docs[r][key]) == protocol.delete_conflict(doc)
                assert protocol.conflicts(self.docs[r][key]) == protocol.conflicts(doc)


def _op(clock: HlcClock, record: str, field: str, value, base=()) -> Op:
    hlc = clock.now()
    return Op(new_id(), EVENT, SESSION, record, "entry", field, value, hlc.encode(), hlc.device,
              tuple(base))  # fmt: skip


def test_a_delete_concurrent_with_an_edit_is_a_conflict_in_any_order() -> None:
    """Issue 12: A deletes while B, offline, edits; the edit is never hidden, whatever the
    order; restoring or confirming the delete resolves it."""
    a, b = HlcClock("lap-a", Wall(1_800_000_000.0)), HlcClock("lap-b", Wall(1_800_000_100.0))
    rec = RECORDS[0]
    create = _op(a, rec, "text", "Drug routes")
    seen = protocol.merge_ops([create])
    delete = _op(a, rec, "deleted", True, protocol.delete_base(seen[("entry", rec)]))
    edit = _op(b, rec, "text", "Drug routes via ports", [create.hlc])
    for order in ([create, delete, edit], [create, edit, delete], [edit, delete, create]):
        doc = protocol.merge_ops(order)[("entry", rec)]
        found = protocol.delete_conflict(doc)
        assert found == protocol.DeleteConflict(("lap-a",), ("lap-b",), ("text",))
        assert [h.device for _v, h in protocol.conflicts(doc)["deleted"]] == ["lap-b"]
        assert protocol.conflict_devices(doc, "lap-b") == ["lap-a"]
    # a delete that saw the edit (confirm) and a restore both resolve it
    docs = protocol.merge_ops([create, delete, edit])
    confirm = _op(a, rec, "deleted", True, protocol.delete_base(docs[("entry", rec)]))
    confirmed = protocol.merge_ops([confirm], docs)[("entry", rec)]
    assert protocol.delete_conflict(confirmed) is None
    docs = protocol.merge_ops([create, delete, edit])
    restore = _op(b, rec, "deleted", False, protocol.field_base(docs[("entry", rec)], "deleted"))
    doc = protocol.merge_ops([restore], docs)[("entry", rec)]
    assert protocol.delete_conflict(doc) is None and doc["fields"]["text"].endswith("ports")
    # a delete after one's own edit (undo of a capture) is no conflict
    own = protocol.merge_ops([create, _op(a, rec, "deleted", True)])[("entry", rec)]
    assert protocol.delete_conflict(own) is None


def test_the_server_refuses_what_laptops_refuse() -> None:
    """Issue 12: NUL and ESC in text and an HLC with wall 0 were accepted by parse_op."""
    import pytest

    good = _op(HlcClock("lap-a", Wall(1_800_000_000.0)), RECORDS[0], "text", "ok").to_dict()
    protocol.parse_op(good)
    for bad in ("a\x00b", "\x1b[31mred"):
        with pytest.raises(protocol.ProtocolError, match="control character"):
            protocol.parse_op({**good, "value": bad})
    zero = "000000000000000-000001-lap-a"
    with pytest.raises(protocol.ProtocolError, match="no wall time"):
        protocol.parse_op({**good, "hlc": zero})


TestConvergence = Replicas.TestCase
TestConvergence.settings = settings(max_examples=count(60), stateful_step_count=40, deadline=None)
