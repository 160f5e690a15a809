"""The secretariat's routers, one module per resource."""

from roundtable.secretariat.routes import actions, documents, events, meta, ops

ROUTERS = (meta.router, events.router, ops.router, documents.router, actions.router)
