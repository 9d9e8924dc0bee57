"""The ring-fenced ledger: never below zero, append-only at the database, and any change made
behind its back (with the triggers lifted) found by verify_ledger, naming the fund and the entry."""

from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import ledger, ledger_sql
from zhouxin.funds.choices import EntryKind
from zhouxin.funds.models import Fund, LedgerEntry

from .helpers_funds import D, disburse, make_fund, make_plan


def _verify(*args) -> tuple[int, str, str]:
    """Run verify_ledger: (exit status, stdout, stderr)."""
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledger", *args, stdout=out, stderr=err)
        code = 0
    except CommandError as exc:
        code = exc.returncode
        err.write(str(exc))
    return code, out.getvalue(), err.getvalue()


def _raw(sql: str, params=()) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def _forge(sql: str, params=()) -> None:
    """What an intruder with database access would do: lift the triggers, change a row, put them back."""
    with transaction.atomic(), ledger_sql.GROUP.triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute(sql, params)
    assert ledger_sql.GROUP.installed(connection)


@pytest.fixture
def spent_fund(personas):
    """多福巷社区's fund: two allocations, then two disbursements of a plan (four entries)."""
    fund = make_fund(personas)
    plan = make_plan(personas, fund, amount=D("9000"))
    disburse(personas, fund, plan, "5000")
    disburse(personas, fund, plan, "3000")
    fund.refresh_from_db()
    return fund


def _state(fund):
    with scopes_disabled():
        fund = Fund.objects.unscoped().get(pk=fund.pk)
        return (fund.balance, fund.entry_count, fund.head_hash, LedgerEntry.objects.unscoped().count(),
                AuditEntry.objects.count())


# --- never below zero ------------------------------------------------------------------------------

def test_an_overdraft_is_refused_and_changes_nothing(personas, spent_fund):
    assert spent_fund.balance == D("192000.00")
    before = _state(spent_fund)
    with pytest.raises(ValidationError) as refused, scopes_disabled():
        ledger.post(actor=personas.street_hub, fund=spent_fund, kind=EntryKind.DISBURSEMENT,
                    amount=D("-192000.01"), memo="超支")
    assert "192,000.00" in str(refused.value) or "192000.00" in str(refused.value)
    assert "不得透支" in str(refused.value)
    assert _state(spent_fund) == before
    # To the cent is allowed: the balance may reach zero.
    with scopes_disabled():
        entry = ledger.post(actor=personas.street_hub, fund=spent_fund, kind=EntryKind.DISBURSEMENT,
                            amount=D("-192000.00"), memo="用完")
    assert entry.balance == D("0.00")


def test_the_database_refuses_a_negative_balance_even_past_the_service(personas, spent_fund):
    with pytest.raises(IntegrityError), transaction.atomic(), scopes_disabled():
        LedgerEntry.objects.create(fund=spent_fund, seq=99, kind=EntryKind.DISBURSEMENT, amount=D("-1"),
                                   balance=D("-1"), memo="绕过服务", recorded_by=personas.street_hub,
                                   recorded_at=timezone.now(), prev_hash="0" * 64, hash="f" * 64)
    with pytest.raises(IntegrityError), transaction.atomic(), scopes_disabled():
        Fund.objects.unscoped().filter(pk=spent_fund.pk).update(balance=D("-0.01"))


# --- append-only at the database ----------------------------------------------------------------------

@pytest.mark.parametrize("sql", [
    "UPDATE funds_ledgerentry SET amount = -1 WHERE fund_id = %(fund)s AND seq = 3",
    "UPDATE funds_ledgerentry SET memo = 'forged' WHERE fund_id = %(fund)s",
    "DELETE FROM funds_ledgerentry WHERE fund_id = %(fund)s AND seq = 4",
])
def test_update_and_delete_are_refused_by_the_database(spent_fund, sql):
    before = _state(spent_fund)
    with pytest.raises(DatabaseError, match="append-only"):
        _raw(sql.replace("%(fund)s", str(spent_fund.pk)))
    assert _state(spent_fund) == before
    with scopes_disabled():
        assert LedgerEntry.objects.unscoped().get(fund=spent_fund, seq=3).amount == D("-5000.00")


def test_the_orm_cannot_update_or_delete_entries_either(spent_fund):
    with scopes_disabled():
        entries = LedgerEntry.objects.unscoped().filter(fund=spent_fund)
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            entries.update(memo="改摘要")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            entries.filter(seq=4)._raw_delete(entries.db)
        assert entries.count() == 4


# --- verify_ledger ------------------------------------------------------------------------------------

def test_verify_ledger_passes_on_an_intact_ledger(spent_fund, personas):
    make_fund(personas, "community_b", actor="district_admin")
    code, out, err = _verify()
    assert code == 0 and not err
    assert "台账校验通过" in out and "2 个经费账户" in out and "6 条记录" in out


def test_a_changed_amount_is_found_naming_the_fund_and_the_entry(spent_fund, personas):
    intact = make_fund(personas, "community_b", actor="district_admin")
    _forge("UPDATE funds_ledgerentry SET amount = %s WHERE fund_id = %s AND seq = 3",
           [D("-500.00"), spent_fund.pk])
    code, _out, err = _verify()
    assert code == 1
    assert f"{spent_fund}（ID {spent_fund.pk}）第 3 条" in err and "被改动过" in err
    assert f"ID {intact.pk}）" not in err  # the other fund holds
    # One fund at a time too.
    assert _verify("--fund", str(intact.pk))[0] == 0
    assert _verify("--fund", str(spent_fund.pk))[0] == 1


def test_a_changed_amount_with_its_hash_recomputed_still_breaks_the_next_link(spent_fund):
    with scopes_disabled():
        third = LedgerEntry.objects.unscoped().get(fund=spent_fund, seq=3)
    third.amount = D("-500.00")
    third.balance = D("199500.00")
    forged = ledger.entry_hash(third.prev_hash, third)
    _forge("UPDATE funds_ledgerentry SET amount = %s, balance = %s, hash = %s WHERE id = %s",
           [third.amount, third.balance, forged, third.pk])
    code, _out, err = _verify()
    assert code == 1 and "第 4 条" in err and "前一条哈希对不上" in err


def test_a_deleted_newest_entry_is_found(spent_fund):
    _forge("DELETE FROM funds_ledgerentry WHERE fund_id = %s AND seq = 4", [spent_fund.pk])
    code, _out, err = _verify()
    assert code == 1
    assert f"{spent_fund}（ID {spent_fund.pk}）" in err
    assert "账户记有 4 条" in err and "台账实有 3 条" in err and "末尾的记录被删除" in err


def test_a_deleted_newest_entry_is_found_even_with_the_fund_row_rewritten(spent_fund):
    """The intruder also rewinds the fund's own witness (count, head hash, balance): the audit log,
    which recorded each entry's position and hash when it was written, still names the entry."""
    with scopes_disabled():
        third = LedgerEntry.objects.get(fund=spent_fund, seq=3)
    _forge("DELETE FROM funds_ledgerentry WHERE fund_id = %s AND seq = 4", [spent_fund.pk])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE funds_fund SET entry_count = 3, head_hash = %s, balance = %s WHERE id = %s",
                       [third.hash, str(third.balance), spent_fund.pk])
    code, _out, err = _verify()
    assert code == 1
    assert f"{spent_fund}（ID {spent_fund.pk}）第 4 条：审计日志记有这一条" in err and "末尾的记录被删除" in err


def test_a_deleted_entry_in_the_middle_is_found(spent_fund):
    _forge("DELETE FROM funds_ledgerentry WHERE fund_id = %s AND seq = 2", [spent_fund.pk])
    code, _out, err = _verify()
    assert code == 1 and "第 2 条：缺少这一条（下一条是第 3 条）" in err


def test_the_fund_page_shows_a_broken_ledger(spent_fund, client_for):
    _forge("UPDATE funds_ledgerentry SET memo = %s WHERE fund_id = %s AND seq = 2", ["改过的摘要", spent_fund.pk])
    response = client_for("street_hub").post(reverse("funds:fund_verify", args=[spent_fund.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "台账校验未通过" in body and "第 2 条" in body and "被改动过" in body
