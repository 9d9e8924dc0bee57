"""Check the read-replica router (zhouxin/core/db_router.py) against a real streaming standby.

Run in a child process by zhouxin/core/tests/test_replica.py, which starts a private primary
and a standby made with pg_basebackup -R, migrates the primary, and points this process at both:

    DATABASE_URL=postgres://postgres@127.0.0.1:<primary>/postgres \\
    DATABASE_REPLICA_URL=postgres://postgres@127.0.0.1:<standby>/postgres \\
    ZHOUXIN_TESTING=1 python -m zhouxin.testing.replica_probe

Each check raises AssertionError with what it saw, or prints "ok <name>".  The proof that a
read really went to the standby: WAL replay is paused there (pg_wal_replay_pause()), a row is
written on the primary, and a read inside replica_reads() does not see it while a read outside
does.
"""

from __future__ import annotations

import os
import sys
import time

STEP_TIMEOUT = 20.0


def ok(name: str) -> None:
    print("ok", name, flush=True)


def _scalar(alias: str, sql: str, params=()):
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _wait(predicate, what: str) -> None:
    deadline = time.monotonic() + STEP_TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def _caught_up() -> bool:
    """The standby has replayed everything the primary has written so far."""
    target = _scalar("default", "SELECT pg_current_wal_lsn()::text")
    return bool(_scalar("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", (target,)))


def _queries(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries]


def main() -> int:
    import django

    django.setup()
    from django.db import connections, transaction
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from zhouxin.core.db_router import replica_reads
    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.orgs.models import Area
    from zhouxin.testing.clients import verified_client
    from zhouxin.testing.personas import build_personas

    # The two aliases are two different servers: the primary, and a standby in recovery.
    assert _scalar("default", "SELECT pg_is_in_recovery()") is False
    assert _scalar("replica", "SELECT pg_is_in_recovery()") is True
    assert _scalar("default", "SHOW port") != _scalar("replica", "SHOW port")
    ok("two servers")

    personas = build_personas()  # written on the primary
    _wait(_caught_up, "the standby to replay the personas")
    street = personas.areas["street_a"]

    with scopes_disabled():
        assert Area.objects.unscoped().all().db == "default"
        with replica_reads():
            assert Area.objects.unscoped().all().db == "replica"
            assert Area.objects.unscoped().filter(code=street.code).exists()
        ok("routing")

        # Replay paused on the standby: what is written now stays on the primary only.
        _scalar("replica", "SELECT pg_wal_replay_pause()::text")
        _wait(lambda: _scalar("replica", "SELECT pg_get_wal_replay_pause_state()") == "paused",
              "WAL replay to pause")
        Area.objects.unscoped().create(code=f"{street.code}901", name="回放暂停社区", level=AreaLevel.COMMUNITY,
                                       parent=street)
        assert Area.objects.unscoped().filter(name="回放暂停社区").exists()  # outside: the primary
        with replica_reads():
            assert not Area.objects.unscoped().filter(name="回放暂停社区").exists(), \
                "a read inside replica_reads() saw a row the paused standby has not replayed"
            # Inside a transaction on the primary reads stay there: read-your-writes.
            with transaction.atomic():
                assert Area.objects.unscoped().filter(name="回放暂停社区").exists()
                mine = Area.objects.unscoped().create(code=f"{street.code}902", name="事务内社区",
                                                      level=AreaLevel.COMMUNITY, parent=street)
                assert Area.objects.unscoped().filter(pk=mine.pk).exists()
            # A write inside replica_reads() goes to the primary.
            written = Area.objects.unscoped().create(code=f"{street.code}903", name="只读块内写入社区",
                                                     level=AreaLevel.COMMUNITY, parent=street)
            assert written._state.db == "default"
            assert not Area.objects.unscoped().filter(pk=written.pk).exists()  # not on the standby yet
        assert _scalar("default", "SELECT count(*) FROM orgs_area WHERE code = %s", (written.code,)) == 1
        assert _scalar("replica", "SELECT count(*) FROM orgs_area WHERE code = %s", (written.code,)) == 0
        ok("paused standby")

        # The dashboard while replay is paused: its figures come from the standby, whose
        # 东华门街道 lacks the three communities added above; the session and the user's
        # grants (middleware, decorator) come from the primary.
        client = verified_client(personas, "district_admin")
        url = reverse("analytics:dashboard") + f"?area={street.code}"
        with CaptureQueriesContext(connections["replica"]) as on_replica, \
                CaptureQueriesContext(connections["default"]) as on_primary:
            response = client.get(url)
        assert response.status_code == 200, response.status_code
        page = response.content.decode()
        assert "多福巷社区" in page, "the dashboard does not list the street's communities"
        assert "回放暂停社区" not in page and "只读块内写入社区" not in page, \
            "the dashboard showed rows only the primary has"
        replica_sql = _queries(on_replica)
        primary_sql = _queries(on_primary)
        assert any("orgs_area" in q for q in replica_sql), replica_sql
        assert any("django_session" in q for q in primary_sql), primary_sql
        assert not any("dispatch_rollup" in q for q in primary_sql), primary_sql
        ok(f"dashboard ({len(replica_sql)} queries on the replica, {len(primary_sql)} on the primary)")

        _scalar("replica", "SELECT pg_wal_replay_resume()::text")
        _wait(_caught_up, "the standby to catch up after resuming")
        with replica_reads():
            assert Area.objects.unscoped().filter(name="回放暂停社区").exists()
        response = client.get(url)
        assert "回放暂停社区" in response.content.decode()
        ok("resumed")

        # The oversight report: figures read on the standby, the report row and files written
        # on the primary.
        from zhouxin.oversight import reports
        from zhouxin.oversight.choices import ReportStatus
        from zhouxin.oversight.models import Report

        report = reports.report_create(actor=personas.district_admin, area=street, period=time.strftime("%Y-%m"))
        _wait(_caught_up, "the standby to replay the report request")
        with CaptureQueriesContext(connections["replica"]) as on_replica, \
                CaptureQueriesContext(connections["default"]) as on_primary:
            status = reports.report_generate(report.pk)
        report = Report.objects.unscoped().get(pk=report.pk)
        assert status == ReportStatus.SUCCEEDED, (status, report.error)
        assert report.xlsx and report.pdf
        replica_sql = _queries(on_replica)
        primary_sql = _queries(on_primary)
        assert replica_sql and not any(q.lstrip().upper().startswith(("UPDATE", "INSERT")) for q in replica_sql)
        assert any(q.lstrip().upper().startswith("UPDATE") and "oversight_report" in q for q in primary_sql)
        ok(f"report ({len(replica_sql)} queries on the replica, {len(primary_sql)} on the primary)")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "zhouxin.settings")
    sys.exit(main())
