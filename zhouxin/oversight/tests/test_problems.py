"""Responsibility lists, key problems and topic meetings (issue 11 item 1): who may keep and
decide what at each level, bad input refused with its message and nothing changed, the
closure (销号) rules, and the audit trail."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.oversight import problems
from zhouxin.oversight.choices import ItemStatus, ProblemStatus
from zhouxin.oversight.models import (
    KeyProblem,
    ProblemEvidence,
    ProblemUpdate,
    Responsibility,
    ResponsibilityItem,
    TopicMeeting,
)

from .outsiders_problems import make_list, make_problem

TODAY = timezone.localdate()
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _no_scope():
    with scopes_disabled():
        yield


def png(name="现场照片.png", *, exif=False) -> SimpleUploadedFile:
    from PIL import Image

    out = io.BytesIO()
    image = Image.new("RGB", (40, 30), (200, 120, 80))
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make: the device, personal data a report does not need
        image.save(out, format="JPEG", exif=data)
        return SimpleUploadedFile(name.replace(".png", ".jpg"), out.getvalue(), content_type="image/jpeg")
    image.save(out, format="PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


def pdf(name="验收意见.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def actions(action: str) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(action=action).order_by("id"))


def state(problem: KeyProblem) -> tuple:
    row = KeyProblem.objects.unscoped().get(pk=problem.pk)
    return (row.status, row.progress, ProblemUpdate.objects.unscoped().filter(problem=problem).count(),
            ProblemEvidence.objects.unscoped().filter(problem=problem).count())


def finished(personas, problem, actor="community_staff", files=None):
    """Report 100 % with a photo and ask for closure."""
    user = personas.users[actor]
    problems.problem_report_progress(actor=user, problem=problem, note="全部完成", progress=100,
                                     uploads=files if files is not None else [png()])
    return problems.problem_request_closure(actor=user, problem=problem, note="目标已达到，居民满意。")


# --- Responsibility lists ---------------------------------------------------------------------------

def test_community_staff_keep_their_committees_list_and_it_is_audited(personas):
    listing = make_list(personas, area="community_a", org="community_a_committee", actor="community_staff",
                        holder="张丽华")
    assert listing.area == personas.areas["community_a"]
    assert listing.created_by == personas.community_staff
    [entry] = actions("oversight.responsibility.created")
    assert entry.object_id == str(listing.pk)
    assert entry.after["holder"] == "张丽华" and entry.after["role"] == "secretary"


def test_a_list_outside_the_users_area_is_refused(personas):
    with pytest.raises(PermissionDenied):
        make_list(personas, org="community_b_committee", actor="community_staff")
    with pytest.raises(PermissionDenied):   # the street hub of 东华门 does not reach 景山's communities
        make_list(personas, org="community_b_committee", actor="street_hub")
    assert not Responsibility.objects.unscoped().exists()


@pytest.mark.parametrize("actor,org", [("street_hub", "community_a_committee"), ("street_hub", "street_a_committee"),
                                       ("district_admin", "district_committee"),
                                       ("district_admin", "community_b_committee")])
def test_the_street_and_district_keep_lists_below_them(personas, actor, org):
    assert make_list(personas, org=org, actor=actor).organisation == personas.orgs[org]


@pytest.mark.parametrize("org", ["unit_branch", "department"])
def test_lists_are_for_party_committees_only(personas, org):
    with pytest.raises(ValidationError) as exc:
        make_list(personas, org=org, actor="district_admin")
    assert "不是" in exc.value.message_dict["organisation"][0]
    assert not Responsibility.objects.unscoped().exists()


def test_bad_list_input_names_each_field_and_writes_nothing(personas):
    with pytest.raises(ValidationError) as exc:
        problems.responsibility_create(actor=personas.community_staff, organisation=personas.orgs["community_a_committee"],
                                       year=TODAY.year + 5, role="boss", holder="  ")
    errors = exc.value.message_dict
    assert errors["year"] == [f"年度应为 {TODAY.year - 1} 至 {TODAY.year + 1} 年。"]
    assert errors["role"] == ["请选择责任类别。"]
    assert errors["holder"] == ["请填写责任人姓名。"]
    assert not Responsibility.objects.unscoped().exists()
    assert not actions("oversight.responsibility.created")


def test_one_list_per_holder_role_and_year(personas):
    make_list(personas, area="community_a", org="community_a_committee", actor="community_staff", holder="张丽华")
    with pytest.raises(ValidationError) as exc:
        make_list(personas, area="community_a", org="community_a_committee", actor="community_staff", holder="张丽华")
    assert "已有“第一责任人（书记）”责任清单" in exc.value.message_dict["holder"][0]
    assert Responsibility.objects.unscoped().count() == 1


def test_items_are_added_in_order_with_deadlines_in_the_lists_year(personas):
    listing = make_list(personas)
    first = problems.responsibility_item_add(actor=personas.community_staff_b, responsibility=listing,
                                             text="每季度专题研究党建工作", due=dt.date(TODAY.year, 3, 31))
    second = problems.responsibility_item_add(actor=personas.community_staff_b, responsibility=listing,
                                              text="落实三会一课")
    assert (first.position, second.position) == (1, 2)
    with pytest.raises(ValidationError) as exc:
        problems.responsibility_item_add(actor=personas.community_staff_b, responsibility=listing, text=" ",
                                         due=dt.date(TODAY.year + 1, 1, 5))
    assert exc.value.message_dict == {"text": ["请填写责任事项。"], "due": [f"完成时限应在 {TODAY.year} 年内。"]}
    assert ResponsibilityItem.objects.unscoped().count() == 2
    assert len(actions("oversight.responsibility.item_added")) == 2
    with pytest.raises(PermissionDenied):
        problems.responsibility_item_add(actor=personas.community_staff, responsibility=listing, text="越权")


def test_an_item_is_done_only_with_what_shows_it(personas):
    listing = make_list(personas)
    item = problems.responsibility_item_add(actor=personas.community_staff_b, responsibility=listing,
                                            text="落实三会一课", due=dt.date(TODAY.year, 6, 30))
    with pytest.raises(ValidationError) as exc:
        problems.responsibility_item_update(actor=personas.community_staff_b, item=item, text=item.text, due=item.due,
                                            status=ItemStatus.DONE, evidence="")
    assert "请写明完成情况" in exc.value.message_dict["evidence"][0]
    assert ResponsibilityItem.objects.unscoped().get(pk=item.pk).status == ItemStatus.ONGOING
    problems.responsibility_item_update(actor=personas.community_staff_b, item=item, text=item.text, due=item.due,
                                        status=ItemStatus.DONE, evidence="全年组织主题党日 12 次，记录已归档。")
    saved = ResponsibilityItem.objects.unscoped().get(pk=item.pk)
    assert saved.status == ItemStatus.DONE and saved.evidence.startswith("全年组织")
    [entry] = actions("oversight.responsibility.item_done")
    assert entry.before["status"] == "ongoing" and entry.after["status"] == "done"
    # Saving the same again changes nothing and writes no entry.
    problems.responsibility_item_update(actor=personas.community_staff_b, item=saved, text=saved.text, due=saved.due,
                                        status=saved.status, evidence=saved.evidence)
    assert not actions("oversight.responsibility.item_updated")


# --- Key problems: listing -----------------------------------------------------------------------------

def test_a_problem_is_listed_with_its_leaders_and_organisations(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                           co=("department", "unit"))
    assert problem.status == ProblemStatus.OPEN and problem.progress == 0 and problem.year == TODAY.year
    assert set(problem.co_orgs.all()) == {personas.orgs["department"], personas.orgs["unit"]}
    [entry] = actions("oversight.problem.created")
    assert entry.after["lead_org"] == personas.orgs["community_a_committee"].pk
    assert entry.after["deadline"] == (TODAY + dt.timedelta(days=90)).isoformat()


@pytest.mark.parametrize("changes,field,message", [
    ({"days": 0}, "deadline", "完成时限应晚于今天。"),
    ({"days": -3}, "deadline", "完成时限应晚于今天。"),
    ({"days": 4 * 366}, "deadline", "完成时限不能晚于 3 年以后，请分阶段列入。"),
    ({"lead": "community_x_committee"}, "lead_org", "牵头单位应是本区的单位。"),
    ({"co": ("community_x_committee",)}, "co_orgs", "协办单位应是本区的单位：中共西交民巷社区委员会 不是。"),
    ({"co": ("community_a_committee",)}, "co_orgs", "牵头单位不必再列为协办单位。"),
    ({"title": " "}, "title", "请填写问题。"),
    ({"source": "rumour"}, "source", "请选择问题来源。"),
])
def test_bad_problem_input_is_refused_and_nothing_written(personas, changes, field, message):
    kwargs = {"area": "community_a", "actor": "community_staff", "lead": "community_a_committee", **changes}
    with pytest.raises(ValidationError) as exc:
        make_problem(personas, **kwargs)
    assert exc.value.message_dict[field] == [message]
    assert not KeyProblem.objects.unscoped().exists()
    assert not actions("oversight.problem.created")


def test_problems_belong_to_streets_and_communities_of_the_users_areas(personas):
    with pytest.raises(PermissionDenied):
        make_problem(personas, area="community_b", actor="community_staff")
    with pytest.raises(PermissionDenied):   # a community's staff do not list their street's problems
        make_problem(personas, area="street_a", actor="community_staff", lead="street_a_committee")
    with pytest.raises(ValidationError) as exc:
        make_problem(personas, area="dongcheng", actor="district_admin", lead="district_committee")
    assert exc.value.message_dict["area"] == ["重点难点问题列在街道或社区。"]
    assert make_problem(personas, area="street_a", actor="street_hub", lead="street_a_committee").area.level == "street"
    assert KeyProblem.objects.unscoped().count() == 1


# --- Progress -----------------------------------------------------------------------------------------------

def test_progress_is_reported_with_photos_checked_by_content(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    update = problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="完成摸底",
                                              progress="40", uploads=[png(exif=True), pdf()],
                                              organisation=personas.orgs["department"])
    assert (problem.status, problem.progress) == (ProblemStatus.IN_PROGRESS, 40)
    assert update.organisation == personas.orgs["department"]
    files = list(ProblemEvidence.objects.unscoped().filter(update=update).order_by("id"))
    assert [f.content_type for f in files] == ["image/jpeg", "application/pdf"]
    stored = files[0].file.read()
    assert b"PhoneMaker" not in stored   # the photo lost its metadata
    [entry] = actions("oversight.problem.progress")
    assert entry.before == {"status": "open", "progress": 0}
    assert entry.after["progress"] == 40 and len(entry.after["files"]) == 2 and entry.after["went_back"] is False


def test_progress_going_back_is_accepted_and_the_report_says_so(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="完成大半", progress=60)
    update = problems.problem_report_progress(actor=personas.community_staff, problem=problem,
                                              note="发现新增点位，工作量增加", progress=45)
    assert problem.progress == 45
    assert "进度由 60% 调整为 45%，低于上次填报" in update.note
    assert actions("oversight.problem.progress")[-1].after["went_back"] is True


@pytest.mark.parametrize("kwargs,field,message", [
    ({"progress": 101}, "progress", "进度应为 0 到 100 之间的整数。"),
    ({"progress": "七十"}, "progress", "进度应为 0 到 100 之间的整数。"),
    ({"note": ""}, "note", "请填写进展情况。"),
])
def test_bad_progress_changes_nothing(personas, kwargs, field, message):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    before = state(problem)
    with pytest.raises(ValidationError) as exc:
        problems.problem_report_progress(actor=personas.community_staff, problem=problem,
                                         **{"note": "推进中", "progress": 50, **kwargs})
    assert exc.value.message_dict[field] == [message]
    assert state(problem) == before


def test_a_file_that_is_not_a_photo_or_pdf_is_refused_and_nothing_stored(personas, settings):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    before = state(problem)
    fake = SimpleUploadedFile("照片.png", b"<html><script>alert(1)</script></html>", content_type="image/png")
    with pytest.raises(ValidationError) as exc:
        problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="附照片", progress=30,
                                         uploads=[png(), fake])
    assert "“照片.png”不是 PDF 文件或 JPEG、PNG、WebP 图片" in exc.value.message_dict["uploads"][0]
    assert state(problem) == before
    media = settings.MEDIA_ROOT
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_only_the_lead_or_a_co_organisation_reports(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                           co=("department",))
    with pytest.raises(ValidationError) as exc:
        problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="x", progress=10,
                                         organisation=personas.orgs["unit"])
    assert exc.value.message_dict["organisation"] == ["填报单位应是牵头单位或协办单位。"]


def test_other_communities_cannot_report(personas):
    problem = make_problem(personas)
    with pytest.raises(PermissionDenied):
        problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="越权", progress=10)
    with pytest.raises(PermissionDenied):
        problems.problem_report_progress(actor=personas.grid_worker, problem=problem, note="越权", progress=10)


# --- Closure ----------------------------------------------------------------------------------------------

def test_closure_needs_progress_at_100(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="推进中", progress=80,
                                     uploads=[png()])
    before = state(problem)
    with pytest.raises(ValidationError) as exc:
        problems.problem_request_closure(actor=personas.community_staff, problem=problem, note="申请销号",
                                         uploads=[pdf()])
    assert exc.value.messages == ["进度达到 100% 后才能申请销号（当前 80%），请先填报进展。"]
    assert state(problem) == before


def test_closure_without_evidence_is_refused(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="完成", progress=100)
    before = state(problem)
    with pytest.raises(ValidationError) as exc:
        problems.problem_request_closure(actor=personas.community_staff, problem=problem, note="已完成")
    assert exc.value.message_dict["uploads"] == ["申请销号须有佐证材料：请至少上传一份照片或 PDF 文件。"]
    with pytest.raises(ValidationError) as exc:
        problems.problem_request_closure(actor=personas.community_staff, problem=problem, note=" ", uploads=[pdf()])
    assert "请填写销号说明" in exc.value.message_dict["note"][0]
    assert state(problem) == before
    assert not actions("oversight.problem.closure_requested")


def test_closure_request_with_evidence_waits_for_the_street(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="完成", progress=100)
    update = problems.problem_request_closure(actor=personas.community_staff, problem=problem,
                                              note="新增车位 42 个，消防通道畅通。", uploads=[png(), pdf()])
    assert update.kind == problems.CLOSURE_REQUEST
    assert problem.status == ProblemStatus.CLOSURE_REQUESTED and problem.closure_requested_at is not None
    assert problem.closure_note.startswith("新增车位")
    assert ProblemEvidence.objects.unscoped().filter(update=update).count() == 2
    [entry] = actions("oversight.problem.closure_requested")
    assert len(entry.after["files"]) == 2
    # While it waits, no more reports and no second request.
    with pytest.raises(ValidationError) as exc:
        problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="补充", progress=100)
    assert "等待上级审核" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        problems.problem_request_closure(actor=personas.community_staff, problem=problem, note="再申请")


def test_evidence_from_an_earlier_report_counts(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    finished(personas, problem)
    assert problem.status == ProblemStatus.CLOSURE_REQUESTED


def test_the_street_approves_a_communitys_closure(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    finished(personas, problem)
    update = problems.problem_decide_closure(actor=personas.street_hub, problem=problem, approve=True)
    saved = KeyProblem.objects.unscoped().get(pk=problem.pk)
    assert saved.status == ProblemStatus.CLOSED
    assert saved.closed_by == personas.street_hub and saved.closed_at is not None
    assert update.kind == problems.CLOSED and update.note == "同意销号。"
    [entry] = actions("oversight.problem.closed")
    assert entry.before["status"] == "closure_requested" and entry.after["status"] == "closed"
    with pytest.raises(ValidationError) as exc:
        problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="x", progress=100)
    assert exc.value.messages == ["问题已销号，不能再填报进展。"]


def test_the_district_may_decide_a_communitys_closure_too(personas):
    problem = make_problem(personas)   # 吉祥社区, 景山街道
    finished(personas, problem, actor="community_staff_b")
    problems.problem_decide_closure(actor=personas.district_admin, problem=problem, approve=True)
    assert KeyProblem.objects.unscoped().get(pk=problem.pk).closed_by == personas.district_admin


def test_a_rejected_closure_goes_back_in_progress_with_its_reason(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    finished(personas, problem)
    with pytest.raises(ValidationError) as exc:
        problems.problem_decide_closure(actor=personas.street_hub, problem=problem, approve=False, note="")
    assert exc.value.message_dict["note"] == ["不同意销号时，请写明理由和还要做什么。"]
    assert KeyProblem.objects.unscoped().get(pk=problem.pk).status == ProblemStatus.CLOSURE_REQUESTED
    update = problems.problem_decide_closure(actor=personas.street_hub, problem=problem, approve=False,
                                             note="东侧院落仍有堆物，请清理后再申请。")
    saved = KeyProblem.objects.unscoped().get(pk=problem.pk)
    assert saved.status == ProblemStatus.IN_PROGRESS and saved.closure_requested_at is None and saved.closed_at is None
    assert update.kind == problems.REOPENED and "东侧院落" in update.note
    assert actions("oversight.problem.closure_rejected")[0].after["note"].startswith("东侧院落")
    # The keepers report again and ask again.
    problems.problem_report_progress(actor=personas.community_staff, problem=problem, note="已清理", progress=100)
    problems.problem_request_closure(actor=personas.community_staff, problem=problem, note="已全部清理")
    assert problem.status == ProblemStatus.CLOSURE_REQUESTED


def test_closure_is_decided_one_level_up_only(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    finished(personas, problem)
    for user in (personas.community_staff, personas.community_staff_b, personas.grid_worker):
        with pytest.raises(PermissionDenied):
            problems.problem_decide_closure(actor=user, problem=problem, approve=True)
    street = make_problem(personas, area="street_a", actor="street_hub", lead="street_a_committee", title="背街小巷整治")
    finished(personas, street, actor="street_hub")
    with pytest.raises(PermissionDenied) as exc:   # a street's problem is the district's to decide
        problems.problem_decide_closure(actor=personas.street_hub, problem=street, approve=True)
    assert "街道的问题由区审核" in str(exc.value)
    assert KeyProblem.objects.unscoped().get(pk=street.pk).status == ProblemStatus.CLOSURE_REQUESTED
    problems.problem_decide_closure(actor=personas.district_admin, problem=street, approve=True)


def test_nobody_closes_their_own_problem(personas):
    # Listed by the street hub for 多福巷: the street hub cannot close it.
    listed = make_problem(personas, area="community_a", actor="street_hub", lead="community_a_committee")
    finished(personas, listed)
    with pytest.raises(ValidationError) as exc:
        problems.problem_decide_closure(actor=personas.street_hub, problem=listed, approve=True)
    assert exc.value.messages == ["这个问题是您列入的，销号须由其他人审核。"]
    # Asked to close by the street hub: the street hub cannot approve the request.
    asked = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                         title="助餐点扩容")
    finished(personas, asked, actor="street_hub")
    with pytest.raises(ValidationError) as exc:
        problems.problem_decide_closure(actor=personas.street_hub, problem=asked, approve=True)
    assert exc.value.messages == ["销号是您申请的，不能由您自己审核。"]
    # The owner (包联领导) is the street hub herself.
    owned = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                         title="积水点改造", owner="李淑珍")
    finished(personas, owned)
    with pytest.raises(ValidationError) as exc:
        problems.problem_decide_closure(actor=personas.street_hub, problem=owned, approve=True)
    assert exc.value.messages == ["您是这个问题的包联领导，不能审核自己负责的问题销号。"]
    for problem in (listed, asked, owned):
        assert KeyProblem.objects.unscoped().get(pk=problem.pk).status == ProblemStatus.CLOSURE_REQUESTED
        problems.problem_decide_closure(actor=personas.district_admin, problem=problem, approve=True)
    assert len(actions("oversight.problem.closed")) == 3


def test_deciding_without_a_request_is_refused(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    with pytest.raises(ValidationError) as exc:
        problems.problem_decide_closure(actor=personas.street_hub, problem=problem, approve=True)
    assert exc.value.messages == ["问题状态为“待推进”，没有待审核的销号申请。"]


# --- Overdue and scoping -------------------------------------------------------------------------------------

def test_overdue_means_deadline_passed_and_not_closed(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee",
                           today=TODAY - dt.timedelta(days=100), days=30)
    assert problems.days_overdue(problem) == 70
    assert KeyProblem.objects.unscoped().filter(problems.overdue_q()).count() == 1
    finished(personas, problem)
    problems.problem_decide_closure(actor=personas.street_hub, problem=problem, approve=True)
    problem.refresh_from_db()
    assert problems.days_overdue(problem) == 0
    assert not KeyProblem.objects.unscoped().filter(problems.overdue_q()).exists()


def test_each_level_reads_its_own_problems(personas):
    titles = {}
    for key, area, actor, lead in (("a", "community_a", "community_staff", "community_a_committee"),
                                   ("a2", "community_a2", "street_hub", "street_a_committee"),
                                   ("street", "street_a", "street_hub", "street_a_committee"),
                                   ("b", "community_b", "community_staff_b", "community_b_committee")):
        titles[key] = make_problem(personas, area=area, actor=actor, lead=lead, title=f"问题{key}").title

    def seen(name):
        return set(problems.problems_for(personas.users[name]).values_list("title", flat=True))

    assert seen("community_staff") == {titles["a"]}
    assert seen("street_hub") == {titles["a"], titles["a2"], titles["street"]}
    assert seen("district_admin") == set(titles.values())
    assert seen("grid_worker") == set() and seen("outsider") == set()


# --- Meetings ---------------------------------------------------------------------------------------------------

def test_a_meeting_takes_up_problems_of_its_area(personas):
    problem = make_problem(personas, area="community_a", actor="community_staff", lead="community_a_committee")
    meeting = problems.meeting_create(actor=personas.street_hub, area=personas.areas["street_a"], kind="committee",
                                      title="党工委会议研究停车治理", held_on=TODAY, chair="李淑珍", attendees="9",
                                      decisions="成立专班，两周调度一次。", problems=[problem])
    assert list(meeting.problems.all()) == [problem]
    assert list(problem.meetings.all()) == [meeting]
    [entry] = actions("oversight.meeting.recorded")
    assert entry.after["problems"] == [problem.pk] and entry.after["attendees"] == 9


def test_bad_meeting_input_is_refused_and_nothing_written(personas):
    other = make_problem(personas)   # 吉祥社区
    with pytest.raises(ValidationError) as exc:
        problems.meeting_create(actor=personas.community_staff, area=personas.areas["community_a"], kind="party",
                                title="", held_on=TODAY + dt.timedelta(days=1), chair="", attendees=0, decisions="",
                                problems=[other])
    errors = exc.value.message_dict
    assert errors["held_on"] == ["召开日期不能晚于今天：会议开过后再记录。"]
    assert errors["kind"] == ["请选择会议类型。"]
    assert errors["attendees"] == ["参会人数应为 1 到 2000 之间的整数。"]
    assert errors["problems"] == [f"只能关联本区域的问题：{other.title} 不是。"]
    assert {"title", "chair", "decisions"} <= set(errors)
    assert not TopicMeeting.objects.unscoped().exists()
    with pytest.raises(PermissionDenied):
        problems.meeting_create(actor=personas.community_staff, area=personas.areas["community_b"], kind="topic",
                                title="越权", held_on=TODAY, chair="某", attendees=3, decisions="越权")
