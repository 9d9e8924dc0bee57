"""Funds reports: the execution report (xlsx) and the street overview with its charts."""

import io
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import ledger, reports
from zhouxin.funds.choices import EntryKind, FundKind, PlanStatus

from .helpers_funds import D, disburse, make_fund, make_plan

YEAR = timezone.localdate().year


@pytest.fixture
def world(personas):
    """东华门街道: 多福巷社区 spent 16,000 of 200,000 on two plans (one got 1,000 back), 银闸社区 has an
    untouched fund; 景山街道's 吉祥社区 spent 7,000 (never in 东华门街道's figures)."""
    a = make_fund(personas)
    lights = make_plan(personas, a, title="楼道照明改造", category="公共设施小修", amount=D("8000"))
    meals = make_plan(personas, a, title="老年助餐点餐具更新", category="为老助残服务", amount=D("20000"),
                      status=PlanStatus.DISBURSED)
    make_plan(personas, a, title="社区少儿暑期托管", category="少年儿童服务", amount=D("4000"),
              status=PlanStatus.REJECTED)
    disburse(personas, a, lights, "5000")
    disburse(personas, a, meals, "12000")
    with scopes_disabled():
        ledger.post(actor=personas.street_hub, fund=a, kind=EntryKind.REFUND, amount=D("1000"), plan=meals,
                    memo="餐具采购结余退回")
    a2 = make_fund(personas, "community_a2", sources={"city": D("75000"), "district": D("75000")})
    b = make_fund(personas, "community_b", actor="district_admin")
    b_plan = make_plan(personas, b, title="垃圾分类宣传", category="社区环境整治", amount=D("7000"))
    disburse(personas, b, b_plan, "7000")
    return {"a": a, "a2": a2, "b": b}


def _xlsx(client, **params):
    from openpyxl import load_workbook

    response = client.get(reverse("funds:execution_xlsx"), params)
    assert response.status_code == 200
    assert response["Content-Type"] == reports.XLSX
    assert "attachment" in response["Content-Disposition"]
    return load_workbook(io.BytesIO(response.content))


def _table(sheet, header_text):
    """Rows below the header row that starts with `header_text`, as dicts by header."""
    rows = list(sheet.iter_rows(values_only=True))
    start = next(i for i, row in enumerate(rows) if row and row[0] == header_text)
    header = rows[start]
    return [dict(zip(header, row, strict=False)) for row in rows[start + 1:] if any(v is not None for v in row)]


def test_execution_xlsx_has_the_right_figures(world, client_for):
    book = _xlsx(client_for("street_hub"), year=YEAR)
    assert book.sheetnames == ["经费执行", "支出类别", "支出计划"]
    funds_rows = _table(book["经费执行"], "街道")
    by_name = {r["社区"]: r for r in funds_rows if r["街道"] != "合计"}
    assert set(by_name) == {"多福巷社区", "银闸社区"}  # not 景山街道's 吉祥社区
    a = by_name["多福巷社区"]
    assert a["街道"] == "东华门街道" and a["年度"] == YEAR and a["经费类型"] == "服务群众专项经费"
    assert (a["年度预算（元）"], a["市级财政（元）"], a["区级财政（元）"], a["街道财政（元）"]) == (200000, 100000, 100000, None)
    assert a["分担比例"] == "1 : 1"
    assert a["已拨入（元）"] == 200000 and a["已支出（元）"] == 16000 and a["余额（元）"] == 184000
    assert a["在途计划占用（元）"] == 11000  # 3,000 + 8,000 left of the open plans; the rejected one holds nothing
    assert a["执行率（%）"] == 8.0 and a["支出计划（个）"] == 3
    a2 = by_name["银闸社区"]
    assert a2["年度预算（元）"] == 150000 and a2["已支出（元）"] == 0 and a2["执行率（%）"] == 0.0
    total = next(r for r in funds_rows if r["街道"] == "合计")
    assert total["年度预算（元）"] == 350000 and total["已支出（元）"] == 16000 and total["余额（元）"] == 334000
    assert round(total["执行率（%）"], 1) == 4.6

    categories = _table(book["支出类别"], "街道")
    assert {(r["社区"], r["支出类别"]): r["支出金额（元）"] for r in categories} == {
        ("多福巷社区", "为老助残服务"): 11000, ("多福巷社区", "公共设施小修"): 5000}
    plans = _table(book["支出计划"], "街道")
    assert {(r["项目名称"], r["状态"], r["计划金额（元）"], r["已拨付（元）"]) for r in plans} == {
        ("楼道照明改造", "已审核备案", 8000, 5000), ("老年助餐点餐具更新", "已拨付", 20000, 12000),
        ("社区少儿暑期托管", "未通过", 4000, 0)}


def test_execution_xlsx_of_the_district_and_one_street(world, client_for):
    client = client_for("district_admin")
    everything = {r["社区"] for r in _table(_xlsx(client, year=YEAR)["经费执行"], "街道") if r["街道"] != "合计"}
    assert everything == {"多福巷社区", "银闸社区", "吉祥社区"}
    street_b = world["b"].community.parent.code
    one = _table(_xlsx(client, year=YEAR, street=street_b)["经费执行"], "街道")
    assert {r["社区"] for r in one if r["街道"] != "合计"} == {"吉祥社区"}
    # Community staff get their own community only.
    own = _table(_xlsx(client_for("community_staff_b"), year=YEAR)["经费执行"], "街道")
    assert {r["社区"] for r in own if r["街道"] != "合计"} == {"吉祥社区"}


def test_the_export_is_audited(world, client_for, personas):
    _xlsx(client_for("street_hub"), year=YEAR)
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="funds.report.exported")
    assert entry.actor_id == personas.street_hub.pk and entry.after["funds"] == 2 and entry.after["plans"] == 3


def test_a_year_without_funds_gives_an_empty_report(world, client_for):
    rows = _table(_xlsx(client_for("street_hub"), year=YEAR - 1)["经费执行"], "街道")
    assert [r["社区"] for r in rows if r["街道"] != "合计"] == []


def _data(body: str) -> dict:
    island = re.search(r'<script id="funds-dashboard-data" type="application/json">(.*?)</script>', body, re.S)
    return json.loads(island.group(1))


def test_dashboard_shows_the_communities_of_the_users_area_only(world, client_for):
    body = client_for("street_hub").get(reverse("funds:dashboard")).content.decode()
    data = _data(body)
    assert data["communities"] == ["多福巷社区", "银闸社区"]
    assert data["budget"] == [200000.0, 150000.0] and data["spent"] == [16000.0, 0.0]
    assert "吉祥社区" not in body
    assert {c["name"]: c["value"] for c in data["categories"]} == {"为老助残服务": 11000.0, "公共设施小修": 5000.0}
    assert data["monthly"][timezone.localdate().month - 1] == 16000.0 and sum(data["monthly"]) == 16000.0
    assert "¥350,000.00" in body and "¥16,000.00" in body and "4.6%" in body

    staff = _data(client_for("community_staff").get(reverse("funds:dashboard")).content.decode())
    assert staff["communities"] == ["多福巷社区"]
    district = client_for("district_admin")
    assert _data(district.get(reverse("funds:dashboard")).content.decode())["communities"] == [
        "多福巷社区", "银闸社区", "吉祥社区"]
    narrowed = _data(district.get(reverse("funds:dashboard"), {"street": world["b"].community.parent.code})
                     .content.decode())
    assert narrowed["communities"] == ["吉祥社区"] and narrowed["spent"] == [7000.0]
    # Another district's street is ignored, not shown.
    other = _data(district.get(reverse("funds:dashboard"), {"street": "110102001"}).content.decode())
    assert other["communities"] == ["多福巷社区", "银闸社区", "吉祥社区"]


def test_dashboard_counts_communities_without_a_fund(personas, client_for):
    make_fund(personas, kind=FundKind.WORKING, sources={"district": D("50000")})
    body = client_for("street_hub").get(reverse("funds:dashboard")).content.decode()
    assert _data(body)["communities"] == ["多福巷社区", "银闸社区"]
    assert "1 个社区未设立经费" in body and "本年度未设立经费" in body


def test_dashboard_has_no_inline_script(world, client_for):
    body = client_for("street_hub").get(reverse("funds:dashboard")).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", body):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    assert "funds-dashboard.js" in body and "echarts.min.js" in body
    assert 'style="' not in body


def test_dashboard_queries_do_not_grow_with_funds(personas, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("district_admin")
    make_fund(personas)
    with CaptureQueriesContext(connection) as one:
        assert client.get(reverse("funds:dashboard")).status_code == 200
    for area in ("community_a2", "community_b"):
        fund = make_fund(personas, area, actor="district_admin")
        disburse(personas, fund, make_plan(personas, fund), "1000")
    make_fund(personas, kind=FundKind.WORKING)
    with CaptureQueriesContext(connection) as more:
        assert client.get(reverse("funds:dashboard")).status_code == 200
    assert len(more.captured_queries) == len(one.captured_queries)
