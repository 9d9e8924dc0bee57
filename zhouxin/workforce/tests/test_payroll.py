"""Monthly payroll: a street's run, its payslips explained line by line, the xlsx, re-runs and
confirmation, and who sees which payslip (the street, a community's staff, the worker)."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from zhouxin.core.models import AuditEntry, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.workforce import payroll
from zhouxin.workforce.choices import RunStatus
from zhouxin.workforce.models import Assessment, PayrollRun, Payslip, PostHolding, Worker

YEAR, MONTH = 2025, 6


def _worker(personas, name, area, posts, *, person=None, assessments=(), **extra):
    with scopes_disabled():
        if person is None:
            person = Person.objects.unscoped().create(name=name, home_area=personas.areas[area])
        worker = Worker.objects.unscoped().create(person=person, community=personas.areas[area], **extra)
        for post_type, title, start in posts:
            PostHolding.objects.unscoped().create(worker=worker, post_type=post_type, title=title, started_on=start)
        for year, grade in assessments:
            Assessment.objects.unscoped().create(worker=worker, year=year, grade=grade,
                                                 decided_by=personas.users["street_hub"], decided_at=timezone.now())
    return worker


@pytest.fixture
def world(personas):
    """Three workers of 东华门街道 and one of 景山街道 (another street)."""
    worker_user = User.objects.create_user(username="secretary", password="Zhouxin-Test-2026!", full_name="韩书记")
    with scopes_disabled():
        secretary_person = Person.objects.unscoped().create(name="韩书记", home_area=personas.areas["community_a"],
                                                            user=worker_user)
    secretary = _worker(personas, "韩书记", "community_a",
                        [("正职", "书记", dt.date(2016, 1, 1)), ("专职", "网格员", dt.date(2016, 1, 1))],
                        person=secretary_person, hire_date=dt.date(2016, 1, 1), education="本科",
                        assessments=[(2023, "合格"), (2024, "合格")])
    # 周海燕 (the member persona) is a worker too; her 2024 assessment was 不合格.
    failed = _worker(personas, "周海燕", "community_a", [("专职", "社工", dt.date(2019, 7, 1))],
                     person=personas.people["member_a"], hire_date=dt.date(2019, 7, 1),
                     assessments=[(2023, "合格"), (2024, "不合格")])
    deputy = _worker(personas, "银闸副主任", "community_a2", [("副职", "副主任", dt.date(2020, 1, 1))],
                     hire_date=dt.date(2020, 1, 1), education="本科", certificate="社会工作师")
    elsewhere = _worker(personas, "吉祥社工", "community_b", [("专职", "社工", dt.date(2020, 1, 1))],
                        hire_date=dt.date(2020, 1, 1))
    return {"secretary": secretary, "failed": failed, "deputy": deputy, "elsewhere": elsewhere,
            "worker_user": worker_user}


def _run(personas, area="street_a", year=YEAR, month=MONTH, actor="street_hub"):
    with scopes_disabled():
        return payroll.payroll_run(actor=personas.users[actor], area=personas.areas[area], year=year, month=month)


def _slips(run):
    with scopes_disabled():
        return {s.worker.person.name: s for s in Payslip.objects.unscoped().filter(run=run).select_related(
            "worker__person")}


def _line(slip, label):
    return next(line for line in slip.lines if line["label"] == label)


def test_a_streets_payroll_pays_each_worker_once_and_adds_up(personas, world):
    run = _run(personas)
    slips = _slips(run)
    assert set(slips) == {"韩书记", "周海燕", "银闸副主任"}  # not 景山街道's worker
    assert run.status == RunStatus.DRAFT and run.workers == 3
    # Total of the run == sum of the payslips == sum of every line, exactly.
    assert run.total == sum(s.total for s in slips.values())
    assert run.total == sum(Decimal(line["amount"]) for s in slips.values() for line in s.lines)
    for slip in slips.values():
        assert slip.total == sum(Decimal(line["amount"]) for line in slip.lines)
        assert all(isinstance(line["amount"], str) and line["explanation"] for line in slip.lines)
    # Two posts at once: paid once, at the 正职 post, and the grade says why.
    secretary = slips["韩书记"]
    assert secretary.post_title == "书记" and [line["label"] for line in secretary.lines] == ["基本工资", "绩效工资"]
    assert any("兼职不兼酬" in text for text in secretary.grade_explanation)
    # 不合格 in 2024: no performance pay in 2025, explained.
    failed = _line(slips["周海燕"], "绩效工资")
    assert failed["amount"] == "0.00" and "不合格" in failed["explanation"]
    assert any("2024 年考核不合格" in text for text in slips["周海燕"].grade_explanation)
    assert _line(slips["银闸副主任"], "社工证津贴")["amount"] == "200.00"
    with scopes_disabled():
        entry = AuditEntry.objects.filter(action="workforce.payroll.run").get()
    assert entry.after["total"] == str(run.total)


def test_the_xlsx_has_a_row_per_worker_a_column_per_line_and_totals(personas, world):
    run = _run(personas)
    with scopes_disabled():
        run = PayrollRun.objects.unscoped().select_related("area").get(pk=run.pk)
        book = load_workbook(io.BytesIO(payroll.payroll_xlsx(run)))
    sheet, detail = book["工资表"], book["明细"]
    rows = list(sheet.values)
    header, body, totals = rows[0], rows[1:-1], rows[-1]
    assert header[:4] == ("姓名", "所在社区", "计酬岗位", "等级") and header[-1] == "应发合计（元）"
    assert {"基本工资", "绩效工资", "社工证津贴"} <= set(header)
    assert len(body) == 3 and {row[0] for row in body} == {"韩书记", "周海燕", "银闸副主任"}
    assert totals[0] == "合计" and Decimal(str(totals[-1])) == run.total
    assert sum(Decimal(str(row[-1])) for row in body) == run.total
    allowance = header.index("社工证津贴")
    assert Decimal(str(totals[allowance])) == Decimal("200")
    lines = list(detail.values)
    slips = _slips(run)
    assert len(lines) == 1 + sum(len(s.lines) for s in slips.values()) + 1
    assert sum(Decimal(str(row[3])) for row in lines[1:-1]) == Decimal(str(lines[-1][3])) == run.total
    assert all(row[4] for row in lines[1:-1])  # every line explained
    assert not any("1381234" in str(cell) for row in lines for cell in row)  # no phone numbers


def test_a_rerun_replaces_the_draft_and_a_confirmed_month_is_final(personas, world):
    community_draft = _run(personas, area="community_a2", actor="district_admin")
    first = _run(personas)
    first_total = first.total
    with scopes_disabled():
        Worker.objects.unscoped().filter(pk=world["deputy"].pk).update(certificate="高级社会工作师")
    again = _run(personas)
    assert again.pk == first.pk and again.total == first_total + Decimal("100.00")
    with scopes_disabled():
        assert PayrollRun.objects.unscoped().filter(area=personas.areas["street_a"]).count() == 1
        assert Payslip.objects.unscoped().filter(run=again).count() == 3
        payroll.payroll_confirm(actor=personas.street_hub, run=again)
    with pytest.raises(ValidationError, match="已确认，不能重新计算"):
        _run(personas)
    with pytest.raises(ValidationError, match="不能重复确认"), scopes_disabled():
        payroll.payroll_confirm(actor=personas.street_hub, run=again)
    # A community of the confirmed street cannot be paid again that month.
    with pytest.raises(ValidationError, match="不能重复计算"):
        _run(personas, area="community_a", actor="district_admin")
    # …nor can an earlier draft of one of its communities be confirmed: nobody is paid twice.
    with pytest.raises(ValidationError, match="已确认"), scopes_disabled():
        payroll.payroll_confirm(actor=personas.district_admin, run=community_draft)
    with scopes_disabled():
        statuses = dict(PayrollRun.objects.unscoped().values_list("area__name", "status"))
    assert statuses == {"东华门街道": RunStatus.CONFIRMED, "银闸社区": RunStatus.DRAFT}


def test_bad_months_and_refused_roles_change_nothing(personas, world):
    today = timezone.localdate()
    after_next = (today.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    for year, month in ((2025, 13), (2025, 0), ("x", 1), (after_next.year, after_next.month)):
        with pytest.raises(ValidationError):
            _run(personas, year=year, month=month)
    with pytest.raises(PermissionDenied):
        _run(personas, actor="community_staff", area="community_a")
    with pytest.raises(PermissionDenied):
        _run(personas, actor="street_hub", area="street_b")
    with scopes_disabled():
        assert not PayrollRun.objects.unscoped().exists()
    nxt = (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    assert _run(personas, year=nxt.year, month=nxt.month).workers == 3  # next month may be prepared


def test_the_street_runs_confirms_and_downloads_on_the_pages(personas, world, client_for):
    hub = client_for("street_hub")
    page = hub.get(reverse("workforce:payroll"))
    assert page.status_code == 200 and "东华门街道" in page.content.decode()
    response = hub.post(reverse("workforce:payroll_run"), {"area": personas.areas["street_a"].pk, "month": "2025-06"})
    with scopes_disabled():
        run = PayrollRun.objects.unscoped().get()
    assert response.status_code == 302 and response["Location"] == reverse("workforce:payroll_detail", args=[run.pk])
    detail = hub.get(reverse("workforce:payroll_detail", args=[run.pk])).content.decode()
    assert "韩书记" in detail and "银闸副主任" in detail and str(run.total) in detail and "试算" in detail
    bad = hub.post(reverse("workforce:payroll_run"), {"area": personas.areas["street_a"].pk, "month": "2025-13"},
                   follow=True)
    assert "月份应为 1 到 12。" in bad.content.decode()
    download = hub.get(reverse("workforce:payroll_xlsx", args=[run.pk]))
    assert download.status_code == 200 and download["Content-Type"] == payroll.XLSX
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "filename*=utf-8''" in download["Content-Disposition"] and "attachment" in download["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert book["工资表"].max_row == 5
    with scopes_disabled():
        slip = Payslip.objects.unscoped().get(worker=world["failed"])
    explained = hub.get(reverse("workforce:payslip", args=[slip.pk])).content.decode()
    assert "不予发放" in explained and "定级说明" in explained
    hub.post(reverse("workforce:payroll_confirm", args=[run.pk]))
    with scopes_disabled():
        assert PayrollRun.objects.unscoped().get().status == RunStatus.CONFIRMED


def test_community_staff_see_only_their_communitys_payslips(personas, world, client_for):
    run = _run(personas)
    slips = _slips(run)
    staff = client_for("community_staff")
    detail = staff.get(reverse("workforce:payroll_detail", args=[run.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200 and "韩书记" in body and "周海燕" in body
    assert "银闸副主任" not in body and "本社区合计" in body and "下载工资表" not in body
    assert staff.get(reverse("workforce:payslip", args=[slips["韩书记"].pk])).status_code == 200
    assert staff.get(reverse("workforce:payslip", args=[slips["银闸副主任"].pk])).status_code == 404
    assert staff.get(reverse("workforce:payroll_xlsx", args=[run.pk])).status_code == 403
    other = client_for("community_staff_b")
    assert other.get(reverse("workforce:payroll_detail", args=[run.pk])).status_code == 404
    assert other.get(reverse("workforce:payslip", args=[slips["韩书记"].pk])).status_code == 404


def test_a_worker_sees_only_their_own_confirmed_payslips(personas, world):
    run = _run(personas)
    slips = _slips(run)
    worker = Client()
    worker.force_login(world["worker_user"])
    mine, theirs = slips["韩书记"], slips["周海燕"]
    # A draft is not shown to the workers yet.
    assert "还没有已确认的工资条" in worker.get(reverse("workforce:my_pay")).content.decode()
    assert worker.get(reverse("workforce:my_payslip", args=[mine.pk])).status_code == 404
    with scopes_disabled():
        payroll.payroll_confirm(actor=personas.street_hub, run=run)
    listing = worker.get(reverse("workforce:my_pay")).content.decode()
    assert "2025年6月" in listing and str(mine.total) in listing
    assert str(theirs.total) not in listing and "周海燕" not in listing
    page = worker.get(reverse("workforce:my_payslip", args=[mine.pk])).content.decode()
    assert "韩书记" in page and "兼职不兼酬" in page and "基本工资" in page
    assert worker.get(reverse("workforce:my_payslip", args=[theirs.pk])).status_code == 404
    # Staff pages stay closed to a worker without grants.
    assert worker.get(reverse("workforce:payslip", args=[theirs.pk])).status_code == 403
    # The workbench shows 我的工资 to a worker, and not to others.
    assert reverse("workforce:my_pay") in worker.get(reverse("core:home")).content.decode()
    member = Client()
    member.force_login(personas.member)
    own = member.get(reverse("workforce:my_pay")).content.decode()
    assert str(theirs.total) in own and str(mine.total) not in own
    assert member.get(reverse("workforce:my_payslip", args=[mine.pk])).status_code == 404
    resident = Client()
    resident.force_login(personas.resident)
    assert "没有登记为社区工作者" in resident.get(reverse("workforce:my_pay")).content.decode()


def test_the_runs_queries_do_not_grow_with_the_workers(personas, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as three:
        _run(personas, area="street_a")
    for i in range(5):
        _worker(personas, f"新社工{i}", "community_a2", [("专职", "社工", dt.date(2021, 1, 1))],
                hire_date=dt.date(2021, 1, 1))
    with CaptureQueriesContext(connection) as eight:
        run = _run(personas, area="street_a")
    assert run.workers == 8 and len(eight) <= len(three) + 1  # the re-run deletes the draft's payslips
