"""Funds and their sources: setting up, allocating more, the sharing ratio, and the fund pages."""

import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import funds, ledger
from zhouxin.funds.choices import EntryKind, FundKind
from zhouxin.funds.models import Fund, FundSource, LedgerEntry

from .helpers_funds import D, disburse, make_fund, make_plan

YEAR = timezone.localdate().year


def _entries(fund):
    with scopes_disabled():
        return list(LedgerEntry.objects.unscoped().filter(fund=fund).order_by("seq"))


# --- fund_create ---------------------------------------------------------------------------------

def test_fund_create_posts_one_allocation_per_source_and_the_balance_is_the_budget(personas):
    fund = make_fund(personas, sources={"city": D("120000"), "district": D("80000.50")})
    fund.refresh_from_db()
    assert fund.budget == fund.balance == D("200000.50")
    entries = _entries(fund)
    assert [(e.seq, e.kind, e.source, e.amount, e.balance) for e in entries] == [
        (1, EntryKind.ALLOCATION, "city", D("120000.00"), D("120000.00")),
        (2, EntryKind.ALLOCATION, "district", D("80000.50"), D("200000.50")),
    ]
    assert "市级财政" in entries[0].memo and str(YEAR) in entries[0].memo
    assert fund.entry_count == 2 and fund.head_hash == entries[1].hash
    assert ledger.verify_fund(fund) is None
    with scopes_disabled():
        assert dict(FundSource.objects.filter(fund=fund).values_list("source", "amount")) == {
            "city": D("120000.00"), "district": D("80000.50")}
        assert AuditEntry.objects.filter(action="funds.fund.created", object_id=str(fund.pk)).exists()


def test_default_sources_split_the_standard_city_and_district(personas):
    assert funds.default_sources(personas.areas["community_a"], YEAR) == {"city": D("100000.00"),
                                                                          "district": D("100000.00")}
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key="funds.budget",
                          value={"service_yearly": "250000", "city_share": 2, "district_share": 1},
                          effective_from=timezone.localdate())
    split = funds.default_sources(personas.areas["community_a"], YEAR)
    assert split == {"city": D("166666.67"), "district": D("83333.33")}
    assert sum(split.values()) == D("250000.00")
    # Last year's funds keep last year's standard.
    assert funds.default_sources(personas.areas["community_a"], YEAR - 1) == {"city": D("100000.00"),
                                                                              "district": D("100000.00")}


def test_a_second_fund_of_the_same_kind_and_year_is_refused_by_name(personas):
    make_fund(personas)
    with pytest.raises(ValidationError) as refused:
        make_fund(personas, sources={"city": D("5000")})
    assert "多福巷社区" in str(refused.value) and "不能重复设立" in str(refused.value)
    with scopes_disabled():
        assert Fund.objects.unscoped().count() == 1
    # Another kind, or another year, is a fund of its own.
    make_fund(personas, kind=FundKind.WORKING, sources={"district": D("50000")})
    make_fund(personas, year=YEAR - 1)
    with scopes_disabled():
        assert Fund.objects.unscoped().count() == 3


@pytest.mark.parametrize("sources, message", [
    ({"city": D("0"), "district": D("1000")}, "市级财政金额必须大于零"),
    ({"city": D("-5")}, "市级财政金额必须大于零"),
    ({"city": D("10.005")}, "最多精确到分"),
    ({}, "至少填写一项"),
    ({"lottery": D("100")}, "未知的经费来源"),
])
def test_sources_must_be_positive_amounts_of_known_sources(personas, sources, message):
    with pytest.raises(ValidationError, match=message), scopes_disabled():
        funds.fund_create(actor=personas.street_hub, community=personas.areas["community_a"], year=YEAR,
                          kind=FundKind.SERVICE, sources=sources)
    with scopes_disabled():
        assert not Fund.objects.unscoped().exists() and not LedgerEntry.objects.unscoped().exists()


@pytest.mark.parametrize("actor", ["community_staff", "community_staff_b", "outsider", "resident", "grid_worker"])
def test_only_the_street_or_district_sets_up_a_fund(personas, actor):
    with pytest.raises(PermissionDenied), scopes_disabled():
        funds.fund_create(actor=personas.users[actor], community=personas.areas["community_a"], year=YEAR,
                          kind=FundKind.SERVICE, sources={"city": D("1000")})


def test_a_street_hub_cannot_set_up_another_streets_fund(personas):
    with pytest.raises(PermissionDenied), scopes_disabled():
        funds.fund_create(actor=personas.street_hub, community=personas.areas["community_b"], year=YEAR,
                          kind=FundKind.SERVICE, sources={"city": D("1000")})
    # The district administrator may, for any community of the district.
    fund = make_fund(personas, "community_b", actor="district_admin")
    assert fund.balance == D("200000.00")


def test_a_fund_is_for_a_community_only(personas):
    with pytest.raises(ValidationError, match="社区"), scopes_disabled():
        funds.fund_create(actor=personas.street_hub, community=personas.areas["street_a"], year=YEAR,
                          kind=FundKind.SERVICE, sources={"city": D("1000")})


# --- fund_allocate -------------------------------------------------------------------------------

def test_allocating_more_raises_the_source_the_budget_and_the_balance(personas):
    fund = make_fund(personas)
    with scopes_disabled():
        entry = funds.fund_allocate(actor=personas.district_admin, fund=fund, source="street", amount=D("30000"),
                                    memo="街道追加拨款")
    fund.refresh_from_db()
    assert (entry.seq, entry.kind, entry.amount, entry.balance) == (3, EntryKind.ALLOCATION, D("30000.00"),
                                                                    D("230000.00"))
    assert fund.budget == fund.balance == D("230000.00")
    with scopes_disabled():
        funds.fund_allocate(actor=personas.street_hub, fund=fund, source="city", amount=D("500.25"), memo="市级追加")
        assert dict(FundSource.objects.filter(fund=fund).values_list("source", "amount")) == {
            "city": D("100500.25"), "district": D("100000.00"), "street": D("30000.00")}
    fund.refresh_from_db()
    assert fund.budget == fund.balance == D("230500.25")
    assert ledger.verify_fund(fund) is None


@pytest.mark.parametrize("actor", ["community_staff", "community_staff_b", "outsider", "unit_liaison", "resident"])
def test_allocation_is_refused_to_roles_without_the_permission(personas, actor):
    fund = make_fund(personas)
    with pytest.raises(PermissionDenied), scopes_disabled():
        funds.fund_allocate(actor=personas.users[actor], fund=fund, source="city", amount=D("100"), memo="追加")
    fund.refresh_from_db()
    assert fund.balance == D("200000.00") and fund.entry_count == 2


def test_allocation_is_refused_outside_the_area(personas):
    """The hub of 东华门街道 may not allocate money to 景山街道's community, and nothing changes."""
    fund = make_fund(personas, "community_b", actor="district_admin")
    with pytest.raises(PermissionDenied), scopes_disabled():
        funds.fund_allocate(actor=personas.street_hub, fund=fund, source="city", amount=D("100"), memo="追加")
    fund.refresh_from_db()
    assert (fund.budget, fund.balance, fund.entry_count) == (D("200000.00"), D("200000.00"), 2)


@pytest.mark.parametrize("amount, memo, message", [
    (D("0"), "追加", "金额必须大于零"), (D("-100"), "追加", "金额必须大于零"), (D("100"), "  ", "摘要")])
def test_allocation_needs_a_positive_amount_and_a_memo(personas, amount, memo, message):
    fund = make_fund(personas)
    with pytest.raises(ValidationError, match=message), scopes_disabled():
        funds.fund_allocate(actor=personas.street_hub, fund=fund, source="city", amount=amount, memo=memo)
    fund.refresh_from_db()
    assert fund.entry_count == 2


# --- the sharing ratio ---------------------------------------------------------------------------

def test_sharing_ratio():
    assert funds.sharing_ratio({"city": D("100000"), "district": D("100000")}) == "1 : 1"
    assert funds.sharing_ratio({"district": D("80000"), "city": D("120000")}) == "3 : 2"
    assert funds.sharing_ratio({"city": D("100000"), "district": D("50000"), "street": D("50000")}) == "2 : 1 : 1"
    assert funds.sharing_ratio({"city": D("100000.01"), "district": D("99999.99")}) == "50.0% : 50.0%"
    assert funds.sharing_ratio({"district": D("5")}) == "100%"
    assert funds.yuan(D("1234567.5")) == "¥1,234,567.50"


# --- pages ---------------------------------------------------------------------------------------

def test_fund_list_shows_the_callers_funds_with_figures(personas, client_for):
    mine = make_fund(personas)
    make_fund(personas, "community_b", actor="district_admin", sources={"city": D("77777")})
    plan = make_plan(personas, mine, amount=D("9000"))
    disburse(personas, mine, plan, "6000")
    make_plan(personas, mine, title="垃圾分类宣传", category="社区环境整治", amount=D("2000"), status="deliberating")
    page = client_for("street_hub").get(reverse("funds:fund_list")).content.decode()
    assert "多福巷社区" in page and "吉祥社区" not in page and "¥77,777.00" not in page
    assert "¥200,000.00" in page and "¥194,000.00" in page  # budget, balance
    assert "¥6,000.00" in page  # spent
    assert "¥5,000.00" in page  # committed: 3,000 left of the first plan + 2,000 of the second
    assert "3.0%" in page and "分担比例 1 : 1" in page
    district = client_for("district_admin").get(reverse("funds:fund_list")).content.decode()
    assert "多福巷社区" in district and "吉祥社区" in district
    staff_b = client_for("community_staff_b").get(reverse("funds:fund_list")).content.decode()
    assert "吉祥社区" in staff_b and "多福巷社区" not in staff_b


def test_fund_list_filters(personas, client_for):
    make_fund(personas)
    make_fund(personas, year=YEAR - 1, sources={"city": D("31415")})
    client = client_for("street_hub")
    page = client.get(reverse("funds:fund_list"), {"year": YEAR - 1}).content.decode()
    assert "¥31,415.00" in page and "¥200,000.00" not in page
    page = client.get(reverse("funds:fund_list"), {"kind": "working"}).content.decode()
    assert "没有符合条件的经费" in page


def test_fund_list_queries_do_not_grow_with_funds(personas, client_for):
    client = client_for("district_admin")
    make_fund(personas)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("funds:fund_list")).status_code == 200
    for area in ("community_a2", "community_b"):
        make_fund(personas, area, actor="district_admin")
    make_fund(personas, kind=FundKind.WORKING)
    with CaptureQueriesContext(connection) as four:
        assert client.get(reverse("funds:fund_list")).status_code == 200
    assert len(four.captured_queries) == len(one.captured_queries)


def test_create_form_is_prefilled_from_the_standard_and_offers_the_area_only(personas, client_for):
    page = client_for("street_hub").get(reverse("funds:fund_create")).content.decode()
    assert 'value="100000.00"' in page
    assert "多福巷社区" in page and "银闸社区" in page and "吉祥社区" not in page and "西交民巷社区" not in page


def test_create_through_the_page(personas, client_for):
    client = client_for("street_hub")
    response = client.post(reverse("funds:fund_create"), {
        "community": personas.areas["community_a2"].code, "year": YEAR, "kind": "service",
        "city": "100000", "district": "100000", "note": "东财预〔2025〕1号"})
    with scopes_disabled():
        fund = Fund.objects.unscoped().get(community=personas.areas["community_a2"])
    assert response.status_code == 302 and response["Location"] == reverse("funds:fund_detail", args=[fund.pk])
    assert fund.balance == D("200000.00") and fund.note == "东财预〔2025〕1号"
    # The same again: refused on the form, with the reason.
    again = client.post(reverse("funds:fund_create"), {
        "community": personas.areas["community_a2"].code, "year": YEAR, "kind": "service", "city": "1000"})
    assert again.status_code == 422 and "不能重复设立" in again.content.decode()
    # Zero is no source.
    zero = client.post(reverse("funds:fund_create"), {
        "community": personas.areas["community_a"].code, "year": YEAR, "kind": "service", "city": "0"})
    assert zero.status_code == 422 and "金额必须大于零" in zero.content.decode()
    with scopes_disabled():
        assert Fund.objects.unscoped().count() == 1


def test_create_for_another_streets_community_is_not_found(personas, client_for):
    response = client_for("street_hub").post(reverse("funds:fund_create"), {
        "community": personas.areas["community_b"].code, "year": YEAR, "kind": "service", "city": "1000"})
    assert response.status_code == 404
    with scopes_disabled():
        assert not Fund.objects.unscoped().exists()


def test_fund_detail_shows_sources_ratio_ledger_and_plan_links(personas, client_for):
    fund = make_fund(personas, sources={"city": D("150000"), "district": D("50000")})
    plan = make_plan(personas, fund)
    entry = disburse(personas, fund, plan, "2500.50")
    page = client_for("community_staff").get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    assert "分担比例" in page and "3 : 1" in page and "（75.0%）" in page
    assert "-¥2,500.50" in page and "¥197,499.50" in page and entry.hash[:12] in page
    assert plan.number in page and "楼道照明改造" in page
    # Community staff read the fund; the street allocates.
    assert "追加拨款" not in page
    hub = client_for("street_hub").get(reverse("funds:fund_detail", args=[fund.pk])).content.decode()
    assert f'action="{reverse("funds:fund_allocate", args=[fund.pk])}"' in hub


def test_allocate_through_the_page(personas, client_for):
    fund = make_fund(personas)
    client = client_for("street_hub")
    url = reverse("funds:fund_allocate", args=[fund.pk])
    response = client.post(url, {"source": "street", "amount": "12000", "memo": "街道配套资金"})
    assert response.status_code == 302
    fund.refresh_from_db()
    assert fund.balance == fund.budget == D("212000.00")
    bad = client.post(url, {"source": "street", "amount": "-1", "memo": "x"})
    assert bad.status_code == 422
    fund.refresh_from_db()
    assert fund.entry_count == 3


def test_verify_button_shows_the_result(personas, client_for):
    fund = make_fund(personas)
    response = client_for("community_staff").post(reverse("funds:fund_verify", args=[fund.pk]))
    body = response.content.decode()
    assert response.status_code == 200 and "台账校验通过" in body
    assert re.search(r"共 2 条", body)
    with scopes_disabled():
        assert AuditEntry.objects.filter(action="funds.ledger.verified", object_id=str(fund.pk)).exists()


def test_navigation_has_the_funds_entries(personas, client_for):
    page = client_for("street_hub").get(reverse("funds:fund_list")).content.decode()
    assert reverse("funds:dashboard") in page and "社区经费" in page and "经费报表" in page

