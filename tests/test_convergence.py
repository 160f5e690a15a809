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


TestConvergence = Replicas.TestCase
TestConvergence.settings = settings(max_examples=count(60), stateful_step_count=40, deadline=None)
