"""The secretariat's reference central API: FastAPI + uvicorn over SQLite (the `server` extra).

Imports nothing of the client but model, protocol, minutes and report.  The admin functions
(create_event, issue_token) work on the database file directly and need no running server.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from roundtable.secretariat.db import AdminError, create_event, issue_token, list_events

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["AdminError", "create_app", "create_event", "issue_token", "list_events", "serve"]


def create_app(db_path: Path | str, **kwargs) -> FastAPI:
    """The ASGI app (see ``secretariat.app.create_app``); fastapi is imported only here."""
    from roundtable.secretariat.app import create_app as _create

    return _create(db_path, **kwargs)


def serve(db_path: Path | str, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the API with uvicorn until interrupted.  Binds loopback unless told otherwise."""
    import uvicorn

    uvicorn.run(create_app(db_path), host=host, port=port, log_level="info")
