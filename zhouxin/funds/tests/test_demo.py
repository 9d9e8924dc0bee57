"""The demo funds: two years of funds, plans through the workflow and disclosures, written once."""

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import demo, disclosures, ledger
from zhouxin.funds.choices import DisclosureKind, PlanStatus
from zhouxin.funds.models import Deliberation, Disclosure, Fund, LedgerEntry, SpendingPlan, Voucher


def test_demo_funds_refused_without_the_demo(db, settings):
    settings.DEMO_ENABLED = False
    with pytest.raises(CommandError):
        call_command("load_demo_funds")


def _counts() -> dict:
    with scopes_disabled():
        counts = {model.__name__: model.objects.unscoped().count()
                  for model in (Fund, SpendingPlan, LedgerEntry, Disclosure, Deliberation, Voucher)}
    counts.update(users=User.objects.count(), grants=Grant.objects.count(), audit=AuditEntry.objects.count())
    return counts


@pytest.fixture
def demo_on(personas, settings, monkeypatch, tmp_path):
    from zhouxin.orgs import demo as orgs_demo

    settings.DEMO_ENABLED = True
    settings.MEDIA_ROOT = tmp_path / "media"
    monkeypatch.setattr(orgs_demo, "ensure_demo_available", lambda: None)
    # The personas stand in for the demo district: 东华门街道 (多福巷, 银闸) and 景山街道 (吉祥).
    return personas


class _Day:
    """django.utils.timezone for the loader, on another day (a moment in the past)."""

    def __init__(self, moment):
        self.moment = moment

    def now(self):
        return self.moment

    def localdate(self, value=None, timezone=None):
        return timezone_module.localdate(value or self.moment, timezone)

    def localtime(self, value=None, timezone=None):
        return timezone_module.localtime(value or self.moment, timezone)

    def __getattr__(self, name):
        return getattr(timezone_module, name)


timezone_module = timezone


def _load_on(monkeypatch, day: dt.date | None) -> dict:
    """Load the demo as if today were `day` (None: today)."""
    if day is not None:
        moment = timezone.make_aware(dt.datetime.combine(day, dt.time(17, 30)))
        monkeypatch.setattr(demo, "real_timezone", _Day(moment))
    return demo.load_demo_funds()


def test_demo_funds_loads_once(demo_on):
    out = StringIO()
    call_command("load_demo_funds", stdout=out)
    assert "新建经费 6 个" in out.getvalue()
    first = _counts()
    assert demo.load_demo_funds() == {"funds": 0, "plans": 0, "disclosures": 0}
    call_command("load_demo_funds", stdout=StringIO())
    assert _counts() == first


@pytest.mark.parametrize("day", [None, "01-05", "02-20", "04-02"])
def test_demo_funds_tell_the_whole_workflow(demo_on, monkeypatch, day, client_for):
    today = timezone.localdate()
    when = dt.date(today.year, *map(int, day.split("-"))) if day else None
    if when is not None and when > today:
        when = dt.date(today.year - 1, when.month, when.day)  # always a day in the past
    created = _load_on(monkeypatch, when)
    on = when or today
    assert created["funds"] == 6 and created["plans"] >= 15
    now = timezone.make_aware(dt.datetime.combine(on, dt.time(17, 30))) if when else timezone.now()
    with scopes_disabled():
        service = Fund.objects.unscoped()
        assert set(service.values_list("year", flat=True)) == {on.year, on.year - 1}
        assert set(service.values_list("budget", flat=True)) == {200000}
        plans = SpendingPlan.objects.unscoped()
        statuses = set(plans.values_list("status", flat=True))
        assert {PlanStatus.FILED, PlanStatus.NOTICE, PlanStatus.DELIBERATING, PlanStatus.STREET_REVIEW,
                PlanStatus.APPROVED, PlanStatus.REJECTED} <= statuses
        # The brief's stories, in the first community.
        titles = set(plans.filter(community=demo_on.areas["community_a"]).values_list("title", flat=True))
        assert {"老年助餐点餐具更新", "社区少儿暑期托管", "垃圾分类宣传"} <= titles
        # Filed only after the notice period; the notice plans are still in theirs.
        for plan in plans.filter(status=PlanStatus.FILED):
            assert timezone.localtime(plan.filed_at).date() > plan.notice_until
            assert plan.disbursed == plan.amount and plan.vouchers.exists()
        for plan in plans.filter(status=PlanStatus.NOTICE):
            assert plan.notice_from <= on <= plan.notice_until
        # The 四议 passed in order, with their quorums; the rejected plan failed the members' vote.
        rejected = plans.filter(status=PlanStatus.REJECTED).first()
        assert "党员大会" in rejected.closed_reason or rejected.deliberations.filter(passed=False).exists()
        assert Deliberation.objects.unscoped().filter(passed=True).count() >= 4
        # Nothing happened after "now"; the ledger and the disclosure chains hold.
        assert not LedgerEntry.objects.unscoped().filter(recorded_at__gt=now).exists()
        assert not Disclosure.objects.unscoped().filter(published_at__gt=now).exists()
        assert not plans.filter(proposed_at__gt=now).exists()
        assert ledger.verify() == []
        for key in ("community_a", "community_a2", "community_b"):
            assert disclosures.verify_chain(demo_on.areas[key]) is None
        items = Disclosure.objects.unscoped()
        assert items.filter(kind=DisclosureKind.YEARLY, year=on.year - 1).count() == 3
        assert items.filter(kind=DisclosureKind.QUARTERLY, year=on.year - 1).count() >= 9
        assert items.filter(kind=DisclosureKind.IMMEDIATE).exists()
        # Money went out: some communities' funds of last year have spent part of their budget.
        assert LedgerEntry.objects.unscoped().filter(amount__lt=0).exists()
    # The second run on the same day adds nothing.
    again = _load_on(monkeypatch, when)
    assert again == {"funds": 0, "plans": 0, "disclosures": 0}


def test_demo_funds_show_on_the_street_overview(demo_on, client_for):
    demo.load_demo_funds()
    body = client_for("street_hub").get(reverse("funds:dashboard"),
                                        {"year": timezone.localdate().year - 1}).content.decode()
    assert "多福巷社区" in body and "银闸社区" in body and "吉祥社区" not in body
    assert "¥400,000.00" in body  # two communities' budgets
    page = client_for("community_staff").get(reverse("funds:fund_list")).content.decode()
    assert "多福巷社区" in page and "¥200,000.00" in page
