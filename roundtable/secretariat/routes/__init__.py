"""The secretariat's routers, one module per resource."""

from roundtable.secretariat.routes import documents, events, meta, ops

ROUTERS = (meta.router, events.router, ops.router, documents.router)
