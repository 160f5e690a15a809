"""The wire models that /openapi.json documents.  An op's fields come from ``protocol.OP_WIRE``
(the one declaration of an op's shape), not from a second list here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from roundtable import protocol

_PY_TYPES: dict[str, Any] = {"string": str, "integer": int, "boolean": bool}


def _py_type(schema: dict[str, Any]) -> Any:
    if schema.get("type") == "array":
        return list[_py_type(schema.get("items", {}))]  # type: ignore[misc]
    return _PY_TYPES.get(schema.get("type", ""), Any)


def _op_fields() -> dict[str, Any]:
    fields: dict[str, Any] = {"seq": (int, ...)}
    for key, schema in protocol.OP_WIRE.items():
        extra: Any = None if schema else {"nullable": True}  # value: any JSON, null too
        fields[key] = (_py_type(schema), Field(json_schema_extra=extra))
    return fields


class ErrorBody(BaseModel):
    detail: str = Field(description="one line: what was wrong and where")


class Health(BaseModel):
    status: Literal["ok"]
    protocol: int


class Ready(BaseModel):
    status: Literal["ready", "unavailable"]
    schema_version: int
    detail: str = ""


_PULL_PAGE_MAX = protocol.PULL_PAGE_MAX  # the field ``protocol`` hides the module in the class


class WhoAmI(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    event_id: str
    event_name: str
    regions: list[str]
    label: str
    max_tlp: str = "amber+strict"  # the highest TLP label this token reads (issue 14)
    expires_at: str | None = Field(
        None, description="when the token stops working (ISO 8601, UTC); null: never"
    )
    max_page: int = Field(
        _PULL_PAGE_MAX,
        description="the most ops a pull page holds here (`limit`); a laptop asks for this",
    )


class EventOut(BaseModel):
    event_id: str
    name: str
    venue: str
    starts: str
    ends: str
    tz: str = Field("", description="the venue's IANA time zone; '' = UTC (issue 24)")


class EventList(BaseModel):
    events: list[EventOut]


class SessionOut(BaseModel):
    session_id: str
    event_id: str
    region: str
    title: str
    status: str
    date: str


class SessionList(BaseModel):
    sessions: list[SessionOut]


class PushResult(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    accepted: list[str]
    duplicates: list[str]
    replayed: bool = Field(False, description="the stored answer to this Idempotency-Key")


OpOut = create_model("OpOut", **_op_fields())  # type: ignore[call-overload]
"""A stored op as a pull page gives it: its ``seq`` and the op's wire keys."""


class PullPage(BaseModel):
    protocol: int = protocol.PROTOCOL_VERSION
    ops: list[OpOut]  # type: ignore[valid-type]
    next: int = Field(description="the cursor to ask from next time")
    more: bool
    labels: dict[str, str] | None = Field(
        None, description="device -> its people's label (when the pull names its device)"
    )


class Version(OpOut):  # type: ignore[misc, valid-type]
    received_at: float


class History(BaseModel):
    record_id: str
    versions: list[Version]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for error statuses, each with the one-line ErrorBody."""
    return {c: {"model": ErrorBody} for c in codes}


AUTH_ERRORS = errors(401, 403, 413, 422)
