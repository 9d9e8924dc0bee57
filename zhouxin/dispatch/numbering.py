"""Readable, unique numbers: 工单号 = district code + yyMMdd + daily sequence.

A request received in 东城区 (110101) on 2026-11-26 as the 42nd of that day is
`11010126112600042` (17 characters; the sequence widens past 99 999 on its own,
the column holds 20).  The sequence comes from a counter row per series and day
(NumberCounter), advanced by one atomic upsert that returns the new value:

    INSERT INTO counter (series, day, value) VALUES (%s, %s, 1)
    ON CONFLICT (series, day) DO UPDATE SET value = counter.value + 1
    RETURNING value

The same statement runs on PostgreSQL (≥ 9.5) and SQLite (≥ 3.35).  The row stays
locked until the calling transaction ends, so two concurrent intakes in the same
district and day draw different values, and a rolled-back intake's value is
simply skipped (numbers are unique, not gapless).  Because of that lock, callers
draw the number as late as possible in their transaction (see services.request_intake).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection
from django.utils import timezone

from .models import NumberCounter, ServiceRequest


def _draw_sql() -> str:
    """The counter upsert returning the new value (parameters: series, day); a statement of
    its own or the data-modifying CTE `drawn` of a larger one."""
    table = connection.ops.quote_name(NumberCounter._meta.db_table)
    # bandit B608 (medium) reviewed: the quoted table name of our model; series and day are parameters
    return (f"INSERT INTO {table} (series, day, value) VALUES (%s, %s, 1) "
            f"ON CONFLICT (series, day) DO UPDATE SET value = {table}.value + 1 RETURNING value")


def next_value(series: str, day: dt.date) -> int:
    """The next value of a daily series (1 for the first call of the day)."""
    with connection.cursor() as cursor:
        cursor.execute(_draw_sql(), [series, connection.ops.adapt_datefield_value(day)])
        return int(cursor.fetchone()[0])


def assign_request_number(request_id: int, district_code: str, received_at: dt.datetime) -> str:
    """Draw the next 工单号 and store it on the request: on PostgreSQL in one statement (the
    counter upsert in a data-modifying CTE feeding the UPDATE), elsewhere in two."""
    day = timezone.localtime(received_at).date()
    prefix = f"{district_code}{day:%y%m%d}"
    if connection.vendor != "postgresql":
        number = _format(prefix, next_value(f"R{district_code}", day))
        ServiceRequest.objects.unscoped().filter(pk=request_id).update(number=number)
        return number
    requests = connection.ops.quote_name(ServiceRequest._meta.db_table)
    sql = (
        # bandit B608 (medium) reviewed: quoted table names of our models; every value is a parameter
        f"WITH drawn AS ({_draw_sql()}) "
        f"UPDATE {requests} SET number = %s || CASE WHEN drawn.value < 100000 "
        "THEN lpad(drawn.value::text, 5, '0') ELSE drawn.value::text END "
        "FROM drawn WHERE id = %s RETURNING number"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"R{district_code}", day, prefix, request_id])
        return cursor.fetchone()[0]


def draw_request_number(district_code: str, received_at: dt.datetime) -> tuple[int | None, str]:
    """A 工单号 drawn ahead of the request's INSERT (deferred intake, services._intake_accept),
    and on PostgreSQL the request's id with it, in one statement.

    Drawn outside the intake's transaction, the counter row is locked only for this
    statement, not until the intake commits; an intake that then fails leaves its
    number unused (numbers are unique, not gapless).  Elsewhere the id is None and
    the database assigns it on INSERT."""
    day = timezone.localtime(received_at).date()
    prefix = f"{district_code}{day:%y%m%d}"
    if connection.vendor != "postgresql":
        return None, _format(prefix, next_value(f"R{district_code}", day))
    sql = (
        # bandit B608 (medium) reviewed: the counter upsert of our model; every value is a parameter
        f"WITH drawn AS ({_draw_sql()}) "
        "SELECT nextval(pg_get_serial_sequence(%s, 'id')), drawn.value FROM drawn"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [f"R{district_code}", day, ServiceRequest._meta.db_table])
        request_id, value = cursor.fetchone()
    return int(request_id), _format(prefix, int(value))


def _format(prefix: str, value: int) -> str:
    """The same widening as assign_request_number's SQL: five digits, more past 99 999."""
    return f"{prefix}{value:05d}"
