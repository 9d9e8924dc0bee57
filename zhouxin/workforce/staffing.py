"""Staffing norm (社区工作者配备标准): how many community workers a community should have for
its households, from the rule in force (policy "workforce.staffing", registered in policy.py).

DESIGN default: fewer than 2,000 households → 3 workers; 2,000 to under 3,000 → 4; then one
more for each further (started) 1,000 households up to 5,000, and one more for each further
(started) 500 beyond; never more than 17 workers in one community.  Worked through:
1,999 → 3; 2,000 → 4; 2,999 → 4; 3,000 → 5; 3,999 → 5; 4,000 → 6; 4,999 → 6; 5,000 → 7;
5,499 → 7; 5,500 → 8; 9,999 → 16; 10,000 and above → 17."""

from __future__ import annotations

from dataclasses import dataclass

STAFFING_KEY = "workforce.staffing"

DEFAULT_STAFFING = {
    "small_below": 2000, "small_staff": 3,
    "middle_below": 3000, "middle_staff": 4,
    "step_until": 5000, "step_households": 1000,
    "fine_step_households": 500, "max_staff": 17,
}


def norm(households: int | None, rule: dict) -> int | None:
    """Workers a community of `households` households should have (None: households unknown)."""
    if households is None:
        return None
    h = max(0, int(households))
    if h < rule["small_below"]:
        staff = rule["small_staff"]
    elif h < rule["middle_below"]:
        staff = rule["middle_staff"]
    elif h < rule["step_until"]:
        staff = rule["middle_staff"] + 1 + (h - rule["middle_below"]) // rule["step_households"]
    else:
        at_step_end = rule["middle_staff"] + 1 + (rule["step_until"] - 1 - rule["middle_below"]) \
            // rule["step_households"]
        staff = at_step_end + 1 + (h - rule["step_until"]) // rule["fine_step_households"]
    return min(staff, rule["max_staff"])


@dataclass(frozen=True)
class Staffing:
    households: int | None
    norm: int | None
    actual: int

    @property
    def shortage(self) -> int:
        """Workers missing against the norm (0 when staffed or households unknown)."""
        return max(0, (self.norm or 0) - self.actual)
