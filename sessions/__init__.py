"""Session plans (built-in regional templates and the facilitator's own) and the member roster.

Imports nothing heavy and never textual: the CLI, the app and the tests all start here.
``from sessions import X`` imports X's module on first use only: the app's run screen reads the
roster at start-up and no plan (issue 22).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

_HOMES = {
    "Plan": "sessions.plan",
    "PlanError": "sessions.plan",
    "PlanItem": "sessions.plan",
    "builtin_plans": "sessions.plan",
    "load_plan": "sessions.plan",
    "parse_plan": "sessions.plan",
    "plan_for_region": "sessions.plan",
    "user_plans": "sessions.plan",
    "Roster": "sessions.roster",
    "RosterError": "sessions.roster",
    "countries_in": "sessions.roster",
    "find_country": "sessions.roster",
    "fold": "sessions.roster",
    "load_roster": "sessions.roster",
}

__all__ = [
    "Plan",
    "PlanError",
    "PlanItem",
    "Roster",
    "RosterError",
    "builtin_plans",
    "countries_in",
    "find_country",
    "fold",
    "load_plan",
    "load_roster",
    "parse_plan",
    "plan_for_region",
    "user_plans",
]

if TYPE_CHECKING:
    from sessions.plan import (
        Plan,
        PlanError,
        PlanItem,
        builtin_plans,
        load_plan,
        parse_plan,
        plan_for_region,
        user_plans,
    )
    from sessions.roster import (
        Roster,
        RosterError,
        countries_in,
        find_country,
        fold,
        load_roster,
    )


def __getattr__(name: str):
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'sessions' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value
