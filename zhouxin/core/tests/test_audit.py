"""The audit chain: append-only at the database, verifiable, never forked, purged only by retention."""

from __future__ import annotations

import datetime as dt
import json
import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import audit, audit_sql, context
from zhouxin.core.choices import AuditResult
from zhouxin.core.models import AuditEntry, AuditSeal


def _entries(n: int, action: str = "test.write") -> list[AuditEntry]:
    return [audit.record(actor=None, action=action, object_type="test.thing", object_id=i,
                         after={"n": i, "amount": "12.50"}) for i in range(n)]


def _unsealed(n: int) -> list[AuditEntry]:
    """Entries as a writer leaves them when its after-commit sealing could not run."""
    with override_settings(AUDIT_LINK_ON_WRITE=False):
        return _entries(n, action="test.unsealed")


def _verify() -> tuple[int, str, str]:
    """Run verify_audit; (exit code, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_audit", stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _forge(sql: str, params=()) -> None:
    """What an intruder with database access would do: lift the triggers, change a row, put them back."""
    with transaction.atomic(), audit_sql.triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert audit_sql.installed(connection)


# --- append-only at the database ------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("sql", [
    "UPDATE core_auditentry SET action = 'forged' WHERE id = %(entry)s",
    "DELETE FROM core_auditentry WHERE id = %(entry)s",
    "UPDATE core_auditseal SET hash = 'forged' WHERE seq = %(seq)s",
    "DELETE FROM core_auditseal WHERE seq = %(seq)s",
])
def test_raw_update_and_delete_are_refused(sql):
    entry = _entries(1)[0]
    audit.seal_all()
    seq = AuditSeal.objects.get(entry=entry).seq
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql.replace("%(entry)s", str(entry.pk)).replace("%(seq)s", str(seq)))
    entry.refresh_from_db()
    assert entry.action == "test.write"
    assert AuditSeal.objects.filter(seq=seq, entry=entry).exists()


@pytest.mark.django_db
def test_truncate_is_refused_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    _entries(1)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw("TRUNCATE core_auditentry CASCADE")
    assert AuditEntry.objects.count() == 1


# --- verify_audit ---------------------------------------------------------------------

@pytest.mark.django_db
def test_verify_audit_seals_pending_then_passes_on_an_intact_log():
    _entries(4)
    _unsealed(3)
    # Linking happens after commit, which never comes inside a test transaction.
    pending = 7
    assert AuditSeal.objects.count() == 0
    code, out, err = _verify()
    assert code == 0, err
    assert f"本次封存 {pending} 条" in out and "已校验 7 环" in out and "审计链完整" in out
    assert AuditSeal.objects.count() == 7
    assert list(AuditSeal.objects.order_by("seq").values_list("entry_id", flat=True)) == sorted(
        AuditEntry.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_forged_row_is_found_and_named():
    entries = _entries(5)
    audit.seal_all()
    victim = entries[2]
    seq = victim.seal.seq
    _forge("UPDATE core_auditentry SET object_repr = 'nothing happened' WHERE id = %s", [victim.pk])
    code, out, err = _verify()
    assert code == 1
    assert f"第 {seq} 环" in err and f"#{victim.pk}" in err
    assert "审计记录内容已被篡改" in err and "entry content was altered" in err


@pytest.mark.django_db
def test_forged_row_with_recomputed_content_hash_is_found():
    """Changing a row and its own hash still breaks the link that sealed it."""
    entries = _entries(4)
    audit.seal_all()
    victim = entries[1]
    victim.after = {"n": 999}
    forged_hash = audit.content_hash(victim)
    _forge("UPDATE core_auditentry SET after = %s, content_hash = %s WHERE id = %s",
           ['{"n": 999}', forged_hash, victim.pk])
    code, _out, err = _verify()
    assert code == 1
    assert f"#{victim.pk}" in err and "link hash does not match" in err


@pytest.mark.django_db
def test_deleted_seal_is_found():
    entries = _entries(5)
    audit.seal_all()
    gone = entries[2].seal.seq
    _forge("DELETE FROM core_auditseal WHERE seq = %s", [gone])
    code, _out, err = _verify()
    assert code == 1
    # verify_audit re-seals the orphaned entry at the end, but the hole stays.
    assert f"第 {gone + 1} 环" in err and "missing link" in err


@pytest.mark.django_db
def test_reordered_entries_are_found():
    """Swapping two entries' contents (each with its own valid content hash) breaks the links."""
    first, second = _entries(2)
    audit.seal_all()
    columns = ["at", "actor_label", "action", "object_type", "object_id", "object_repr", "after", "content_hash"]

    def row(pk):
        values = list(AuditEntry.objects.values_list(*columns).get(pk=pk))
        values[columns.index("after")] = json.dumps(values[columns.index("after")])
        return values

    a, b = row(first.pk), row(second.pk)
    assignments = ", ".join(f"{c} = %s" for c in columns)
    _forge(f"UPDATE core_auditentry SET {assignments} WHERE id = %s", [*b, first.pk])
    _forge(f"UPDATE core_auditentry SET {assignments} WHERE id = %s", [*a, second.pk])
    code, _out, err = _verify()
    assert code == 1
    assert f"#{first.pk}" in err and "link hash does not match" in err


@pytest.mark.django_db
def test_awkward_values_round_trip_and_verify():
    """NUL characters, lone surrogates, huge floats and odd IP forms must not break a write or the chain."""
    token = context.set_current(context.RequestContext(ip="2001:0DB8:0000::0001", request_id="r-1"))
    try:
        audit.record(actor=None, action="test.odd", object_repr="a\x00b",
                     after={"text": "x\x00y\ud800", "big": 1e20, "nan": float("nan"), "n": 1.5, "k\x00": [1, "2"]})
    finally:
        context.reset(token)
    token = context.set_current(context.RequestContext(ip="not-an-ip", request_id=""))
    try:
        audit.record(actor=None, action="test.odd")
    finally:
        context.reset(token)
    code, _out, err = _verify()
    assert code == 0, err
    stored = AuditEntry.objects.filter(action="test.odd").order_by("id")
    assert stored[0].object_repr == "ab" and stored[1].ip is None


@pytest.fixture
def seal_every_write(settings):
    settings.AUDIT_SEAL_INTERVAL = 0
    audit._attempt_state.update(last=-1e9, from_id=None)


@pytest.mark.django_db
def test_entries_are_linked_right_after_their_transaction_commits(seal_every_write,
                                                                   django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        _entries(3)
        assert AuditSeal.objects.count() == 0  # the writer takes no chain lock
    assert len(callbacks) == 1  # one attempt per transaction, however many entries
    assert AuditSeal.objects.count() == 3
    assert audit.verify_chain().ok


@pytest.mark.django_db
def test_attempts_are_rate_limited_per_process_and_catch_up(settings, django_capture_on_commit_callbacks):
    settings.AUDIT_SEAL_INTERVAL = 3600
    audit._attempt_state.update(last=-1e9, from_id=None)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _entries(1)
    assert AuditSeal.objects.count() == 1  # the first attempt runs at once
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _entries(2)
    assert AuditSeal.objects.count() == 1  # inside the interval: left for later
    settings.AUDIT_SEAL_INTERVAL = 0
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        _entries(1)
    assert AuditSeal.objects.count() == 4  # the next attempt starts from the oldest id left waiting
    assert audit.verify_chain().ok


@pytest.mark.django_db
def test_audit_seal_command():
    _unsealed(3)
    out = StringIO()
    call_command("audit_seal", stdout=out)
    assert "封存 3 条" in out.getvalue()
    assert audit.verify_chain().ok


@pytest.mark.django_db
def test_the_sealer_loops_rounds_link_new_entries_and_its_sweeps_the_stragglers_below_the_head():
    straggler, newer = _unsealed(2)
    # The newer entry sealed first, as when the straggler's transaction committed late.
    assert audit.seal_pending(from_id=newer.pk) == 1
    assert audit.seal_pending(scope="recent") == 0  # only what lies above the chain head
    later = _unsealed(1)[0]
    assert audit.seal_pending(scope="recent") == 1
    assert AuditSeal.objects.filter(entry=later).exists()
    assert not AuditSeal.objects.filter(entry=straggler).exists()
    assert audit.seal_pending(scope="sweep") == 1
    assert AuditSeal.objects.filter(entry=straggler).exists() and audit.verify_chain().ok


# --- retention -------------------------------------------------------------------------

def _old_entry(days_ago: int, action: str = "test.old") -> AuditEntry:
    entry = AuditEntry(at=timezone.now() - dt.timedelta(days=days_ago), actor_label="system", action=action,
                       result=AuditResult.OK)
    entry.content_hash = audit.content_hash(entry)
    entry.save(force_insert=True)
    return entry


@pytest.mark.django_db
def test_purge_removes_only_old_entries_and_the_chain_still_verifies(settings):
    settings.AUDIT_RETENTION_DAYS = 180
    old = [_old_entry(400), _old_entry(300)]
    kept = [_old_entry(100)]
    audit.seal_all()  # the chain is in time order, as it is when entries are linked as they are written
    kept += _entries(2)
    audit.seal_all()
    out = StringIO()
    call_command("audit_purge", "--before", (timezone.localdate() - dt.timedelta(days=200)).isoformat(), stdout=out)
    assert "已清理 2 条审计记录" in out.getvalue() and "清理后审计链完整" in out.getvalue()
    assert not AuditEntry.objects.filter(pk__in=[e.pk for e in old]).exists()
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in kept]).count() == 3
    purge = AuditEntry.objects.get(action=audit.PURGE_ACTION)
    assert purge.after["deleted_entries"] == 2 and purge.after["anchor_seq"] == 3
    assert audit_sql.installed(connection)
    code, out, err = _verify()
    assert code == 0, err
    assert "第 3 环" in out  # the anchor is reported
    # The triggers are back: the surviving rows are as protected as before.
    with pytest.raises(DatabaseError):
        _raw("DELETE FROM core_auditentry WHERE id = %s", [kept[0].pk])


@pytest.mark.django_db
def test_purge_refuses_dates_inside_the_retention_period(settings):
    settings.AUDIT_RETENTION_DAYS = 180
    _old_entry(179)
    _old_entry(400)
    with pytest.raises(CommandError, match="至少保留 180 天"):
        call_command("audit_purge", "--before", (timezone.localdate() - dt.timedelta(days=100)).isoformat())
    assert AuditEntry.objects.count() == 2
    with pytest.raises(CommandError, match="日期格式"):
        call_command("audit_purge", "--before", "yesterday")


@pytest.mark.django_db
def test_purge_refuses_a_broken_chain_and_deleting_past_the_anchor_is_found(settings):
    settings.AUDIT_RETENTION_DAYS = 180
    _old_entry(400)
    second = _old_entry(390)
    audit.seal_all()
    recent = _entries(2)
    audit.seal_all()
    call_command("audit_purge", "--before", (timezone.localdate() - dt.timedelta(days=395)).isoformat(),
                 stdout=StringIO())
    # An intruder removes one more old link at the start: the anchor no longer matches.
    _forge("DELETE FROM core_auditseal WHERE entry_id = %s", [second.pk])
    _forge("DELETE FROM core_auditentry WHERE id = %s", [second.pk])
    code, _out, err = _verify()
    assert code == 1 and "anchor of the last purge" in err
    with pytest.raises(CommandError, match="校验未通过"):
        call_command("audit_purge", "--before", (timezone.localdate() - dt.timedelta(days=200)).isoformat())
    assert AuditEntry.objects.filter(pk__in=[e.pk for e in recent]).count() == 2


@pytest.mark.django_db
def test_chain_that_starts_late_without_a_purge_record_is_found():
    entries = _entries(3)
    audit.seal_all()
    _forge("DELETE FROM core_auditseal WHERE seq = 1")
    _forge("DELETE FROM core_auditentry WHERE id = %s", [entries[0].pk])
    code, _out, err = _verify()
    assert code == 1 and "no purge record anchors it" in err


# --- concurrency ------------------------------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_the_chain(seal_every_write):
    """Writers in several threads, each committing its own transactions and sealing after commit:
    every entry ends up sealed exactly once, in one unbroken chain (SQLite serialises the
    writers through IMMEDIATE transactions; PostgreSQL through the sealer's advisory lock)."""
    threads, per_thread = 6, 15
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def writer(n: int):
        try:
            start.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    audit.record(actor=None, action="test.concurrent", object_id=f"{n}-{i}")
                    if i % 3 == 0:
                        audit.record(actor=None, action="test.concurrent", object_id=f"{n}-{i}b")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=writer, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not errors, errors
    expected = threads * (per_thread + len(range(0, per_thread, 3)))
    assert AuditEntry.objects.filter(action="test.concurrent").count() == expected
    audit.seal_all()  # whatever a writer left to a busy sealer
    assert AuditSeal.objects.count() == AuditEntry.objects.count() == expected
    assert AuditSeal.objects.values("entry_id").distinct().count() == expected
    seqs = list(AuditSeal.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, expected + 1))
    report = audit.verify_chain()
    assert report.ok and report.checked == expected


# --- browsing (audit admin only) ----------------------------------------------------------

@pytest.mark.django_db
def test_audit_list_search_and_reveal_events_are_findable(personas, client_for):
    person = personas.people["resident_b"]
    audit.record(actor=personas.community_staff_b, action="orgs.person.revealed", obj=person,
                 after={"field": "phone", "reason": "回访核实"})
    audit.record(actor=personas.street_hub, action="orgs.area.updated", object_type="orgs.area", object_id="110101001")
    client = client_for("audit_admin")
    page = client.get(reverse("core:audit_list"), {"action": "orgs.person.revealed"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "orgs.person.revealed" in body and "community_staff_b" in body
    assert "orgs.area.updated" not in body
    # by actor (full name as well as login name), object, result and date range
    by_name = client.get(reverse("core:audit_list"), {"actor": "刘志强"}).content.decode()
    assert "orgs.person.revealed" in by_name and "orgs.area.updated" not in by_name
    by_object = client.get(reverse("core:audit_list"), {"object_type": "orgs.area", "object_id": "110101001"})
    assert "orgs.area.updated" in by_object.content.decode()
    today = timezone.localdate()
    tomorrow = (today + dt.timedelta(days=1)).isoformat()
    assert "orgs.area.updated" not in client.get(reverse("core:audit_list"), {"date_from": tomorrow}).content.decode()
    assert "orgs.area.updated" in client.get(reverse("core:audit_list"),
                                             {"date_from": today.isoformat(), "date_to": today.isoformat()}).content.decode()
    denied = client.get(reverse("core:audit_list"), {"result": "denied"}).content.decode()
    assert "orgs.area.updated" not in denied


@pytest.mark.django_db
def test_audit_list_bad_filter_gets_a_message_not_an_error(personas, client_for):
    response = client_for("audit_admin").get(reverse("core:audit_list"),
                                              {"date_from": "2026-05-02", "date_to": "2026-05-01"})
    assert response.status_code == 200
    assert "截止日期不能早于起始日期" in response.content.decode()
    response = client_for("audit_admin").get(reverse("core:audit_list"), {"date_from": "not a date", "page": "x"})
    assert response.status_code == 200


@pytest.mark.django_db
def test_audit_list_query_count_does_not_depend_on_page_size(personas, client_for):
    client = client_for("audit_admin")
    url = reverse("core:audit_list")
    _entries(3)
    audit.seal_all()
    client.get(url)  # warm the session
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, {"per_page": 200}).status_code == 200
    _entries(60)
    audit.seal_all()
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, {"per_page": 200})
    assert response.content.decode().count('href="/admin/audit/') >= 60
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


@pytest.mark.django_db
def test_audit_detail_shows_before_after_and_the_seal(personas, client_for):
    entry = audit.record(actor=personas.district_admin, action="core.policy.set", object_type="core.policyversion",
                         object_id=1, before={"min_length": 10}, after={"min_length": 12})
    audit.seal_all()
    seal = AuditSeal.objects.get(entry=entry)
    client = client_for("audit_admin")
    body = client.get(reverse("core:audit_detail", args=[entry.pk])).content.decode()
    assert "min_length" in body and "10" in body and "12" in body
    assert seal.hash in body and seal.prev_hash in body and entry.content_hash in body
    assert "一致：记录内容与写入时相同" in body
    _forge("UPDATE core_auditentry SET after = %s WHERE id = %s", ['{"min_length": 8}', entry.pk])
    body = client.get(reverse("core:audit_detail", args=[entry.pk])).content.decode()
    assert "不一致：记录内容在写入后被改动过" in body
    assert client.get(reverse("core:audit_detail", args=[entry.pk + 999])).status_code == 404


@pytest.mark.django_db
def test_audit_pages_are_read_only(personas, client_for):
    entry = _entries(1)[0]
    client = client_for("audit_admin")
    assert client.post(reverse("core:audit_list"), {"action": "x"}).status_code == 405
    assert client.post(reverse("core:audit_detail", args=[entry.pk])).status_code == 405
    body = client.get(reverse("core:audit_detail", args=[entry.pk])).content.decode()
    assert 'method="post"' not in body.split("<main", 1)[1].split("</main>", 1)[0]


def test_plain_values_are_made_canonical_exactly_as_by_the_json_round_trip():
    """_canonical() skips the JSON round trip for plain values; it must give the same value."""
    import math
    import random
    from decimal import Decimal

    from django.core.serializers.json import DjangoJSONEncoder

    def round_trip(value):
        return audit._clean(json.loads(json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False,
                                                  sort_keys=True)))

    rng = random.Random(3)
    atoms = ["x", "中\x00文", "a\udc80", 0, -5, 2**70, 1.5, 1e17, math.nan, math.inf, True, False, None, ""]

    def value(depth=0):
        roll = rng.random()
        if depth > 3 or roll < 0.5:
            return rng.choice(atoms)
        if roll < 0.75:
            return [value(depth + 1) for _ in range(rng.randint(0, 4))]
        return {rng.choice(["b", "a", "中", "k"]) + str(rng.randint(0, 3)): value(depth + 1)
                for _ in range(rng.randint(0, 4))}

    samples = [value() for _ in range(2000)]
    samples += [{2: "a"}, (1, 2), {"d": Decimal("1.50")}, {"t": dt.date(2026, 1, 1)}, {"z": 1, "a": [{"y": 2, "b": 3}]}]
    for sample in samples:
        fast, slow = audit._canonical(sample), round_trip(sample)
        assert json.dumps(fast, ensure_ascii=False) == json.dumps(slow, ensure_ascii=False), sample
    assert list(audit._canonical({"z": 1, "a": 2})) == ["a", "z"]
