"""Session plans (built-in regional templates and the facilitator's own) and the member roster.

Imports nothing heavy and never textual: the CLI, the app and the tests all start here.
"""

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
