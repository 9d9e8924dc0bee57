"""The database refuses overlapping live bookings of one room, whatever the application does.

PostgreSQL: an exclusion constraint over (room, [starts_at, ends_at)) for pending and approved
bookings, with btree_gist for the equality on room_id.  SQLite: BEFORE INSERT and BEFORE UPDATE
triggers that abort when a live booking of the same room overlaps (SQLite stores datetimes as
ISO text in UTC, which compares in time order).  Both surface as IntegrityError, which
bookings.py turns into the message the user sees; the service's own check inside its
transaction normally answers first.
"""

from __future__ import annotations

OVERLAP_NAME = "centers_booking_no_overlap"
LIVE = "('pending', 'approved')"


def create_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [
            "CREATE EXTENSION IF NOT EXISTS btree_gist;",
            f"ALTER TABLE centers_booking ADD CONSTRAINT {OVERLAP_NAME} EXCLUDE USING gist "
            f"(room_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) WHERE (status IN {LIVE});",
        ]
    if vendor == "sqlite":
        overlap = ("SELECT 1 FROM centers_booking b WHERE b.room_id = NEW.room_id AND b.id IS NOT NEW.id "
                   f"AND b.status IN {LIVE} AND b.starts_at < NEW.ends_at AND NEW.starts_at < b.ends_at")
        return [
            f"CREATE TRIGGER {OVERLAP_NAME}_insert BEFORE INSERT ON centers_booking "
            f"WHEN NEW.status IN {LIVE} BEGIN SELECT RAISE(ABORT, '{OVERLAP_NAME}') WHERE EXISTS ({overlap}); END;",
            f"CREATE TRIGGER {OVERLAP_NAME}_update BEFORE UPDATE OF room_id, starts_at, ends_at, status "
            f"ON centers_booking WHEN NEW.status IN {LIVE} "
            f"BEGIN SELECT RAISE(ABORT, '{OVERLAP_NAME}') WHERE EXISTS ({overlap}); END;",
        ]
    return []


def drop_statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return [f"ALTER TABLE centers_booking DROP CONSTRAINT IF EXISTS {OVERLAP_NAME};"]
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {OVERLAP_NAME}_insert;", f"DROP TRIGGER IF EXISTS {OVERLAP_NAME}_update;"]
    return []


def is_overlap_error(exc: Exception) -> bool:
    """True when an IntegrityError came from the overlap rule (constraint or trigger)."""
    return OVERLAP_NAME in str(exc) or "exclusion constraint" in str(exc).lower() and "centers_booking" in str(exc)
