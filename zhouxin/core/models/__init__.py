from .accounts import Grant, User, UserSession
from .audit import AuditEntry, AuditSeal
from .calendar import CalendarDay, CalendarYear
from .jobs import ImportJob
from .policy import PolicyVersion
from .ratelimit import RateLimitWindow

__all__ = [
    "AuditEntry",
    "AuditSeal",
    "CalendarDay",
    "CalendarYear",
    "Grant",
    "ImportJob",
    "PolicyVersion",
    "RateLimitWindow",
    "User",
    "UserSession",
]
