"""Spending plans through 四议两公开, street review, disbursement, vouchers, acceptance, notice
and filing (issue 9 item 2): the quorum and majority rules at their exact boundaries, the
order of the steps, the spending scope, the ring fence, the audit trail, and the staff pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import ledger, plans
from zhouxin.funds.choices import DeliberationStep, DisclosureTopic, EntryKind, PlanStatus, VoucherKind
from zhouxin.funds.models import Deliberation, Disclosure, LedgerEntry, SpendingPlan, Voucher

from .helpers_funds import make_fund

D = Decimal
TODAY = timezone.localdate()
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
STEPS = [DeliberationStep.PARTY_PROPOSAL, DeliberationStep.JOINT_DISCUSSION, DeliberationStep.MEMBERS_REVIEW,
         DeliberationStep.RESIDENTS_DECISION]
# Figures that pass each step comfortably.
PASSING = {
    DeliberationStep.PARTY_PROPOSAL: {"due": 7, "present": 7, "votes_for": 7},
    DeliberationStep.JOINT_DISCUSSION: {"due": 11, "present": 10, "votes_for": 9},
    DeliberationStep.MEMBERS_REVIEW: {"due": 30, "present": 24, "votes_for": 20},
    DeliberationStep.RESIDENTS_DECISION: {"due": 50, "present": 40, "votes_for": 35},
}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def fund(personas):
    """多福巷社区's service fund of this year: ¥200,000.00 from city and district 1:1."""
    return make_fund(personas)


def pdf(name="发票.pdf"):
    return SimpleUploadedFile(name, PDF_BYTES, content_type="application/pdf")


def propose(personas, fund, *, amount="50000.00", category="社区环境整治", title="楼院环境整治", actor=None):
    return plans.plan_propose(actor=actor or personas.community_staff, fund=fund, title=title,
                              purpose="清理楼道堆物，修补破损地面", category=category, amount=D(amount),
                              beneficiaries="辖区居民", implementer="北京某某物业服务有限公司")


def deliberate(personas, plan, step, *, held_on=None, actor=None, **figures):
    values = {**PASSING[step], **figures}
    return plans.deliberation_record(actor=actor or personas.community_staff, plan=plan, step=step,
                                     held_on=held_on or TODAY, minutes="议定实施", **values)


def deliberate_all(personas, plan, *, upto=None):
    for step in STEPS:
        if step == upto:
            return
        deliberate(personas, plan, step)


def approved(personas, fund, amount="50000.00"):
    plan = propose(personas, fund, amount=amount)
    if plan.needs_deliberation:
        deliberate_all(personas, plan)
    plans.plan_submit(actor=personas.community_staff, plan=plan)
    plans.plan_review(actor=personas.street_hub, plan=plan, approve=True, note="同意")
    return plan


def fresh(plan) -> SpendingPlan:
    return SpendingPlan.objects.unscoped().get(pk=plan.pk)


def actions_of(plan) -> list[str]:
    return list(AuditEntry.objects.filter(object_type="funds.spendingplan", object_id=str(plan.pk))
                .order_by("id").values_list("action", flat=True))


# --- Proposing: the spending scope and the threshold ----------------------------------------

def test_forbidden_category_is_refused_naming_the_category_and_the_rule(personas, fund):
    with pytest.raises(ValidationError) as caught:
        propose(personas, fund, category="办公经费", amount="3000.00")
    message = " ".join(caught.value.message_dict["category"])
    assert "“办公经费”属于不得列支的支出类别" in message
    assert "经费支出范围" in message
    assert not SpendingPlan.objects.unscoped().exists()


def test_unknown_category_is_refused_listing_the_allowed_ones(personas, fund):
    with pytest.raises(ValidationError) as caught:
        propose(personas, fund, category="聚餐", amount="3000.00")
    message = " ".join(caught.value.message_dict["category"])
    assert "“聚餐”不在“经费支出范围”" in message and "社区环境整治" in message
    assert not SpendingPlan.objects.unscoped().exists()


def test_a_plan_at_the_threshold_skips_deliberation_and_goes_straight_to_the_street(personas, fund):
    plan = propose(personas, fund, amount="10000.00")  # not above the default ¥10,000.00
    assert (plan.status, plan.needs_deliberation, plan.threshold) == (PlanStatus.DRAFT, False, D("10000.00"))
    assert re.fullmatch(rf"JF{TODAY:%Y%m%d}\d{{4}}", plan.number)
    with pytest.raises(ValidationError, match="无须记录四议"):
        deliberate(personas, plan, DeliberationStep.PARTY_PROPOSAL)
    plans.plan_submit(actor=personas.community_staff, plan=plan)
    assert fresh(plan).status == PlanStatus.STREET_REVIEW
    assert not Deliberation.objects.unscoped().exists()


def test_a_plan_above_the_threshold_must_pass_the_four_deliberations_before_submitting(personas, fund):
    plan = propose(personas, fund, amount="10000.01")
    assert (plan.status, plan.needs_deliberation) == (PlanStatus.DELIBERATING, True)
    with pytest.raises(ValidationError, match="须先完成四议；下一步是“社区党组织提议”"):
        plans.plan_submit(actor=personas.community_staff, plan=plan)
    deliberate_all(personas, plan, upto=DeliberationStep.RESIDENTS_DECISION)
    with pytest.raises(ValidationError, match="下一步是“居民（代表）会议决议”"):
        plans.plan_submit(actor=personas.community_staff, plan=plan)
    assert fresh(plan).status == PlanStatus.DELIBERATING


def test_a_plan_above_the_funds_balance_is_refused(personas, fund):
    with pytest.raises(ValidationError) as caught:
        propose(personas, fund, amount="200000.01")
    assert "超过" in caught.value.message_dict["amount"][0] and "¥200,000.00" in caught.value.message_dict["amount"][0]


def test_text_that_will_be_published_may_carry_no_phone_number(personas, fund):
    with pytest.raises(ValidationError) as caught:
        plans.plan_propose(actor=personas.community_staff, fund=fund, title="楼道修缮", category="公共设施小修",
                           purpose="联系人电话 138 1234 5678", amount=D("3000.00"))
    assert "疑似手机号码" in caught.value.message_dict["purpose"][0]
    assert not SpendingPlan.objects.unscoped().exists()


def test_only_community_staff_of_the_community_propose(personas, fund):
    for name in ("street_hub", "community_staff_b", "outsider", "district_admin"):
        with pytest.raises(PermissionDenied):
            propose(personas, fund, actor=personas.users[name])
    assert not SpendingPlan.objects.unscoped().exists()


# --- 四议: order ------------------------------------------------------------------------------

def test_steps_out_of_order_are_refused(personas, fund):
    plan = propose(personas, fund)
    with pytest.raises(ValidationError) as caught:
        deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW)
    assert "请先记录“社区党组织提议”，再记录“党员大会审议”" in caught.value.messages[0]
    deliberate(personas, plan, DeliberationStep.PARTY_PROPOSAL)
    with pytest.raises(ValidationError, match="请先记录“两委会议商议”"):
        deliberate(personas, plan, DeliberationStep.RESIDENTS_DECISION)
    with pytest.raises(ValidationError, match="“社区党组织提议”已经通过，不能重复记录"):
        deliberate(personas, plan, DeliberationStep.PARTY_PROPOSAL)
    assert Deliberation.objects.unscoped().filter(plan=plan).count() == 1
    assert plans.next_step(fresh(plan)) == DeliberationStep.JOINT_DISCUSSION


def test_a_meeting_dated_before_the_previous_step_or_in_the_future_is_refused(personas, fund):
    plan = propose(personas, fund)
    deliberate(personas, plan, DeliberationStep.PARTY_PROPOSAL, held_on=TODAY - dt.timedelta(days=3))
    with pytest.raises(ValidationError, match="不能早于上一环节的会议日期"):
        deliberate(personas, plan, DeliberationStep.JOINT_DISCUSSION, held_on=TODAY - dt.timedelta(days=4))
    with pytest.raises(ValidationError, match="不能晚于今天"):
        deliberate(personas, plan, DeliberationStep.JOINT_DISCUSSION, held_on=TODAY + dt.timedelta(days=1))


def test_impossible_counts_are_refused(personas, fund):
    plan = propose(personas, fund)
    with pytest.raises(ValidationError, match=r"实到人数（8）不能多于应到人数（7）"):
        deliberate(personas, plan, DeliberationStep.PARTY_PROPOSAL, due=7, present=8, votes_for=7)
    with pytest.raises(ValidationError, match="合计 8 票，多于实到人数 7"):
        deliberate(personas, plan, DeliberationStep.PARTY_PROPOSAL, due=7, present=7, votes_for=6,
                   votes_against=1, abstained=1)
    assert not Deliberation.objects.unscoped().exists()


# --- 四议: the party members' meeting (quorum 2/3 of due, passes with more than half of due) ---

def _to_members(personas, fund):
    plan = propose(personas, fund)
    deliberate_all(personas, plan, upto=DeliberationStep.MEMBERS_REVIEW)
    return plan


def test_members_meeting_with_20_of_30_present_is_quorate(personas, fund):
    plan = _to_members(personas, fund)
    record = deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW, due=30, present=20, votes_for=16)
    assert record.passed
    assert plans.next_step(fresh(plan)) == DeliberationStep.RESIDENTS_DECISION


def test_members_meeting_with_19_of_30_present_is_refused_and_nothing_saved(personas, fund):
    plan = _to_members(personas, fund)
    with pytest.raises(ValidationError) as caught:
        deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW, due=30, present=19, votes_for=19)
    assert caught.value.messages == [
        "会议无效：党员大会审议应到 30 人、实到 19 人，不足三分之二（20 人）。党员大会须有三分之二以上党员到会。"]
    assert not Deliberation.objects.unscoped().filter(step=DeliberationStep.MEMBERS_REVIEW).exists()
    assert fresh(plan).status == PlanStatus.DELIBERATING


def test_members_vote_of_16_of_30_due_passes(personas, fund):
    plan = _to_members(personas, fund)
    assert deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW, due=30, present=30, votes_for=16).passed


def test_members_vote_of_15_of_30_due_fails_and_rejects_the_plan(personas, fund):
    plan = _to_members(personas, fund)
    record = deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW, due=30, present=30, votes_for=15,
                        votes_against=15)
    assert record.pk and record.passed is False
    plan = fresh(plan)
    assert plan.status == PlanStatus.REJECTED
    assert plan.closed_reason == "表决未通过：党员大会审议应到 30 人，赞成 15 票，未超过应到人数的半数（须 16 票以上）。"
    with pytest.raises(ValidationError, match="不能再记录四议"):
        deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW, due=30, present=30, votes_for=30)


def test_members_vote_counts_against_those_due_not_those_present(personas, fund):
    """11 of 20 present is a majority of the meeting but not of the 30 members due: it fails."""
    plan = _to_members(personas, fund)
    record = deliberate(personas, plan, DeliberationStep.MEMBERS_REVIEW, due=30, present=20, votes_for=15)
    assert record.passed is False
    assert "须 16 票以上" in fresh(plan).closed_reason


# --- 四议: the residents' meeting (quorum more than half, passes with more than half present) --

def _to_residents(personas, fund):
    plan = propose(personas, fund)
    deliberate_all(personas, plan, upto=DeliberationStep.RESIDENTS_DECISION)
    return plan


def test_residents_meeting_with_26_of_50_present_is_quorate(personas, fund):
    plan = _to_residents(personas, fund)
    record = deliberate(personas, plan, DeliberationStep.RESIDENTS_DECISION, due=50, present=26, votes_for=14)
    assert record.passed  # 14 of 26 present: more than half of those present, though not of the 50 due


def test_residents_meeting_with_25_of_50_present_is_refused(personas, fund):
    plan = _to_residents(personas, fund)
    with pytest.raises(ValidationError) as caught:
        deliberate(personas, plan, DeliberationStep.RESIDENTS_DECISION, due=50, present=25, votes_for=25)
    assert caught.value.messages == [
        "会议无效：居民（代表）会议决议应到 50 人、实到 25 人，未超过半数（须 26 人以上）。"]
    assert not Deliberation.objects.unscoped().filter(step=DeliberationStep.RESIDENTS_DECISION).exists()
    assert not Disclosure.objects.unscoped().exists()


def test_residents_vote_of_half_of_those_present_fails(personas, fund):
    plan = _to_residents(personas, fund)
    record = deliberate(personas, plan, DeliberationStep.RESIDENTS_DECISION, due=50, present=26, votes_for=13,
                        votes_against=13)
    assert record.passed is False
    plan = fresh(plan)
    assert plan.status == PlanStatus.REJECTED
    assert plan.closed_reason == "表决未通过：居民（代表）会议决议实到 26 人，赞成 13 票，未超过到会人数的半数（须 14 票以上）。"
    assert not Disclosure.objects.unscoped().exists()  # a failed decision is not published as a decision


def test_residents_decision_passing_publishes_the_decision(personas, fund):
    plan = _to_residents(personas, fund)
    deliberate(personas, plan, DeliberationStep.RESIDENTS_DECISION)
    item = Disclosure.objects.unscoped().get(plan=plan)
    assert item.topic == DisclosureTopic.DECISION
    assert [d["step"] for d in item.content["deliberations"]] == [s.value for s in STEPS]
    plans.plan_submit(actor=personas.community_staff, plan=plan)
    assert fresh(plan).status == PlanStatus.STREET_REVIEW


@pytest.mark.parametrize("step", [DeliberationStep.PARTY_PROPOSAL, DeliberationStep.JOINT_DISCUSSION])
def test_proposal_and_joint_discussion_need_more_than_half_present_and_of_those_present(personas, fund, step):
    plan = propose(personas, fund)
    deliberate_all(personas, plan, upto=step)
    with pytest.raises(ValidationError, match=r"应到 10 人、实到 5 人，未超过半数（须 6 人以上）"):
        deliberate(personas, plan, step, due=10, present=5, votes_for=5)
    record = deliberate(personas, plan, step, due=10, present=6, votes_for=3)
    assert record.passed is False and "须 4 票以上" in fresh(plan).closed_reason


@pytest.mark.parametrize(("step", "due", "present", "votes", "quorate", "passed"), [
    (DeliberationStep.MEMBERS_REVIEW, 3, 2, 2, True, True),
    (DeliberationStep.MEMBERS_REVIEW, 3, 1, 1, False, False),
    (DeliberationStep.MEMBERS_REVIEW, 31, 21, 16, True, True),
    (DeliberationStep.MEMBERS_REVIEW, 31, 20, 20, False, False),
    (DeliberationStep.MEMBERS_REVIEW, 31, 31, 15, True, False),
    (DeliberationStep.RESIDENTS_DECISION, 51, 26, 14, True, True),
    (DeliberationStep.RESIDENTS_DECISION, 51, 25, 25, False, False),
    (DeliberationStep.RESIDENTS_DECISION, 51, 27, 13, True, False),
])
def test_assess_at_odd_sizes(step, due, present, votes, quorate, passed):
    verdict = plans.assess(step, due=due, present=present, votes_for=votes)
    assert (verdict.quorate, verdict.passed) == (quorate, passed)


# --- Street review -----------------------------------------------------------------------------

def test_street_approves_with_a_filing_number_or_returns_with_a_note(personas, fund):
    first = propose(personas, fund, amount="5000.00")
    second = propose(personas, fund, amount="6000.00")
    for plan in (first, second):
        plans.plan_submit(actor=personas.community_staff, plan=plan)
    with pytest.raises(PermissionDenied):
        plans.plan_review(actor=personas.community_staff, plan=first, approve=True)
    plans.plan_review(actor=personas.street_hub, plan=first, approve=True, note="同意实施")
    first = fresh(first)
    assert first.status == PlanStatus.APPROVED and first.filing_number == f"BA{TODAY.year}0001"
    assert first.reviewed_by == personas.street_hub
    with pytest.raises(ValidationError, match="请填写审核意见"):
        plans.plan_review(actor=personas.street_hub, plan=second, approve=False, note="")
    plans.plan_review(actor=personas.street_hub, plan=second, approve=False, note="预算依据不足")
    second = fresh(second)
    assert second.status == PlanStatus.REJECTED and second.closed_reason == "街道审核退回：预算依据不足"
    assert not second.filing_number


def test_another_streets_hub_cannot_review(personas, fund):
    plan = propose(personas, fund, amount="5000.00")
    plans.plan_submit(actor=personas.community_staff, plan=plan)
    from zhouxin.core.choices import Role
    from zhouxin.core.models import Grant, User
    other = User.objects.create_user(username="hub_b", password="Zhouxin-Test-2026!", full_name="景山街道")
    Grant.objects.create(user=other, role=Role.STREET_HUB, area=personas.areas["street_b"])
    with pytest.raises(PermissionDenied):
        plans.plan_review(actor=other, plan=plan, approve=True)
    assert fresh(plan).status == PlanStatus.STREET_REVIEW


# --- Disbursement ------------------------------------------------------------------------------

def test_disbursement_beyond_the_plan_amount_is_refused_with_the_figures(personas, fund):
    plan = approved(personas, fund, amount="8000.00")
    entry = plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("5000.00"), payee="某某照明工程公司")
    assert (entry.amount, entry.payee, entry.plan_id) == (D("-5000.00"), "某某照明工程公司", plan.pk)
    assert fresh(plan).status == PlanStatus.APPROVED  # part paid
    with pytest.raises(ValidationError) as caught:
        plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("3000.01"), payee="某某照明工程公司")
    assert caught.value.message_dict["amount"] == [
        "本次拨付 ¥3,000.01 超过计划尚可拨付的 ¥3,000.00（计划金额 ¥8,000.00，已拨付 ¥5,000.00）。"]
    plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("3000.00"), payee="某某照明工程公司")
    plan = fresh(plan)
    assert (plan.status, plan.disbursed) == (PlanStatus.DISBURSED, D("8000.00"))
    fund.refresh_from_db()
    assert fund.balance == D("192000.00")
    with pytest.raises(ValidationError, match="不能拨付"):
        plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("1.00"), payee="某某照明工程公司")


def test_disbursement_needs_the_streets_approval_and_the_disburse_permission(personas, fund):
    plan = propose(personas, fund, amount="5000.00")
    with pytest.raises(ValidationError, match="须经街道审核备案"):
        plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("5000.00"), payee="某公司")
    plans.plan_submit(actor=personas.community_staff, plan=plan)
    plans.plan_review(actor=personas.street_hub, plan=plan, approve=True)
    with pytest.raises(PermissionDenied):
        plans.plan_disburse(actor=personas.community_staff, plan=plan, amount=D("5000.00"), payee="某公司")
    with pytest.raises(ValidationError, match="请填写收款单位"):
        plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("5000.00"), payee=" ")
    assert not LedgerEntry.objects.unscoped().filter(kind=EntryKind.DISBURSEMENT).exists()


def test_two_plans_that_together_overspend_the_fund_one_after_the_other(personas):
    fund = make_fund(personas, sources={"city": D("100000.00")})
    first = approved(personas, fund, amount="70000.00")
    second = approved(personas, fund, amount="40000.00")
    plans.plan_disburse(actor=personas.street_hub, plan=first, amount=D("70000.00"), payee="甲公司")
    with pytest.raises(ValidationError, match="不得透支"):
        plans.plan_disburse(actor=personas.street_hub, plan=second, amount=D("40000.00"), payee="乙公司")
    fund.refresh_from_db()
    second = fresh(second)
    assert (fund.balance, second.disbursed, second.status) == (D("30000.00"), D("0.00"), PlanStatus.APPROVED)
    assert ledger.verify() == []


# --- Vouchers, acceptance, notice, filing ------------------------------------------------------

def test_vouchers_are_checked_by_content(personas, fund):
    plan = approved(personas, fund, amount="5000.00")
    with pytest.raises(ValidationError, match="不是 PDF 文件或 JPEG、PNG、WebP 图片"):
        plans.voucher_add(actor=personas.community_staff, plan=plan, kind=VoucherKind.INVOICE,
                          upload=SimpleUploadedFile("发票.pdf", b"not a pdf at all"))
    voucher = plans.voucher_add(actor=personas.community_staff, plan=plan, kind=VoucherKind.INVOICE, upload=pdf(),
                                number="No.0012345", amount=D("5000.00"), issued_on=TODAY, issuer="某某公司")
    assert (voucher.original_name, voucher.content_type, voucher.size) == ("发票.pdf", "application/pdf",
                                                                          len(PDF_BYTES))
    assert len(voucher.sha256) == 64
    with pytest.raises(PermissionDenied):
        plans.voucher_add(actor=personas.street_hub, plan=plan, kind=VoucherKind.RECEIPT, upload=pdf())


def test_acceptance_needs_full_disbursement_and_a_voucher(personas, fund):
    plan = approved(personas, fund, amount="5000.00")
    with pytest.raises(ValidationError, match="尚未拨付完毕"):
        plans.plan_accept(actor=personas.community_staff, plan=plan, note="合格", participants="两委、居民代表")
    plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("5000.00"), payee="某公司")
    with pytest.raises(ValidationError, match="至少登记一份支出凭证"):
        plans.plan_accept(actor=personas.community_staff, plan=plan, note="合格", participants="两委、居民代表")
    plans.voucher_add(actor=personas.community_staff, plan=plan, kind=VoucherKind.RECEIPT, upload=pdf())
    plans.plan_accept(actor=personas.community_staff, plan=plan, note="工程质量合格", participants="两委、居民代表 3 人")
    plan = fresh(plan)
    assert plan.status == PlanStatus.NOTICE
    assert (plan.notice_from, plan.notice_until) == (TODAY, TODAY + dt.timedelta(days=5))
    result = Disclosure.objects.unscoped().get(plan=plan, topic=DisclosureTopic.RESULT)
    assert result.notice_until == plan.notice_until


def test_filing_waits_until_the_notice_period_has_passed(personas, fund):
    plan = approved(personas, fund, amount="5000.00")
    plans.plan_disburse(actor=personas.street_hub, plan=plan, amount=D("5000.00"), payee="某公司")
    plans.voucher_add(actor=personas.community_staff, plan=plan, kind=VoucherKind.INVOICE, upload=pdf())
    plans.plan_accept(actor=personas.community_staff, plan=plan, note="合格", participants="两委")
    until = fresh(plan).notice_until
    with pytest.raises(ValidationError) as caught:
        plans.plan_file(actor=personas.community_staff, plan=plan, today=until)
    assert caught.value.messages == [f"结果公示期至 {until.isoformat()}，期满后（"
                                     f"{(until + dt.timedelta(days=1)).isoformat()} 起）才能归档。"]
    with pytest.raises(PermissionDenied):
        plans.plan_file(actor=personas.community_staff_b, plan=plan, today=until + dt.timedelta(days=1))
    plans.plan_file(actor=personas.street_hub, plan=plan, today=until + dt.timedelta(days=1))
    plan = fresh(plan)
    assert plan.status == PlanStatus.FILED and plan.filed_at is not None


def test_withdraw_before_money_goes_out_only(personas, fund):
    plan = propose(personas, fund)
    with pytest.raises(ValidationError, match="请填写撤回原因"):
        plans.plan_withdraw(actor=personas.community_staff, plan=plan, reason="")
    plans.plan_withdraw(actor=personas.community_staff, plan=plan, reason="与其他项目合并")
    assert (fresh(plan).status, fresh(plan).closed_reason) == (PlanStatus.WITHDRAWN, "与其他项目合并")
    paid = approved(personas, fund, amount="5000.00")
    plans.plan_disburse(actor=personas.street_hub, plan=paid, amount=D("1000.00"), payee="某公司")
    with pytest.raises(ValidationError, match="已拨付 ¥1,000.00，不能撤回"):
        plans.plan_withdraw(actor=personas.community_staff, plan=paid, reason="不做了")


def test_the_whole_way_to_filed_with_every_step_audited(personas, fund):
    staff, hub = personas.community_staff, personas.street_hub
    plan = propose(personas, fund, amount="50000.00")
    for n, step in enumerate(STEPS):
        deliberate(personas, plan, step, held_on=TODAY - dt.timedelta(days=4 - n))
    plans.plan_submit(actor=staff, plan=plan)
    plans.plan_review(actor=hub, plan=plan, approve=True, note="同意")
    plans.plan_disburse(actor=hub, plan=plan, amount=D("30000.00"), payee="北京某某物业服务有限公司", memo="首付款")
    plans.plan_disburse(actor=hub, plan=plan, amount=D("20000.00"), payee="北京某某物业服务有限公司", memo="尾款")
    plans.voucher_add(actor=staff, plan=plan, kind=VoucherKind.INVOICE, upload=pdf(), amount=D("50000.00"))
    plans.plan_accept(actor=staff, plan=plan, note="整治完成，验收合格", participants="社区两委、居民代表 5 人")
    plans.plan_file(actor=staff, plan=plan, today=TODAY + dt.timedelta(days=6))
    plan = fresh(plan)
    assert plan.status == PlanStatus.FILED
    assert actions_of(plan) == [
        "funds.plan.proposed", *["funds.plan.deliberation_recorded"] * 4, "funds.plan.submitted",
        "funds.plan.approved", "funds.plan.disbursed", "funds.plan.disbursed", "funds.plan.voucher_added",
        "funds.plan.accepted", "funds.plan.notice", "funds.plan.filed"]
    entries = LedgerEntry.objects.unscoped().filter(plan=plan).order_by("seq")
    assert [e.amount for e in entries] == [D("-30000.00"), D("-20000.00")]
    fund.refresh_from_db()
    assert fund.balance == D("150000.00")
    assert sorted(Disclosure.objects.unscoped().filter(plan=plan).values_list("topic", flat=True)) == [
        DisclosureTopic.DECISION, DisclosureTopic.RESULT]
    assert ledger.verify() == []
    proposed = AuditEntry.objects.get(object_type="funds.spendingplan", object_id=str(plan.pk),
                                      action="funds.plan.proposed")
    assert proposed.after["amount"] == "50000.00" and proposed.after["needs_deliberation"] is True


# --- Pages ---------------------------------------------------------------------------------------

def test_plan_list_is_scoped_and_filtered(personas, fund, client_for):
    mine = propose(personas, fund, title="多福巷楼院整治")
    other_fund = make_fund(personas, "community_b", actor="district_admin")
    theirs = propose(personas, other_fund, title="吉祥社区健身角", actor=personas.community_staff_b)
    plans.plan_withdraw(actor=personas.community_staff, plan=propose(personas, fund, title="已撤回的计划"),
                        reason="重复")
    client = client_for("community_staff")
    body = client.get(reverse("funds:plan_list")).content.decode()
    assert mine.title in body and "已撤回的计划" in body and theirs.title not in body
    body = client.get(reverse("funds:plan_list"), {"status": "withdrawn"}).content.decode()
    assert "已撤回的计划" in body and mine.title not in body
    body = client.get(reverse("funds:plan_list"), {"year": TODAY.year - 1}).content.decode()
    assert mine.title not in body
    code_b = personas.areas["community_b"].code
    assert client.get(reverse("funds:plan_list"), {"community": code_b}).status_code == 404
    hub_body = client_for("district_admin").get(reverse("funds:plan_list"), {"community": code_b}).content.decode()
    assert theirs.title in hub_body and mine.title not in hub_body


def test_plan_list_query_count_does_not_grow_with_rows(personas, fund, client_for):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for("community_staff")
    propose(personas, fund, title="一")
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("funds:plan_list"))
    for n in range(5):
        propose(personas, fund, title=f"计划{n}", amount="1000.00")
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("funds:plan_list"))
    assert len(many.captured_queries) == len(few.captured_queries)


def test_create_form_lists_own_funds_and_forbidden_categories_apart(personas, fund, client_for):
    make_fund(personas, "community_b", actor="district_admin")
    body = client_for("community_staff").get(reverse("funds:plan_create")).content.decode()
    assert "多福巷社区" in body and "吉祥社区" not in body
    forbidden = body.split('<optgroup label="不得列支（仅供参考）">')[1].split("</optgroup>")[0]
    assert "办公经费" in forbidden and "社区环境整治" not in forbidden
    assert "社区环境整治" in body.split('<optgroup label="允许的支出类别">')[1].split("</optgroup>")[0]


def test_choosing_a_forbidden_category_in_the_form_names_the_rule(personas, fund, client_for):
    response = client_for("community_staff").post(reverse("funds:plan_create"), {
        "fund": fund.pk, "title": "社区办公电脑", "category": "办公经费", "amount": "6000", "purpose": "更换电脑"})
    assert response.status_code == 422
    body = response.content.decode()
    assert "“办公经费”属于不得列支的支出类别" in body and "经费支出范围" in body
    assert not SpendingPlan.objects.unscoped().exists()


def test_the_workflow_through_the_pages(personas, fund, client_for, monkeypatch):
    staff, hub = client_for("community_staff"), client_for("street_hub")
    response = staff.post(reverse("funds:plan_create"), {
        "fund": fund.pk, "title": "楼院环境整治", "category": "社区环境整治", "amount": "50000.00",
        "purpose": "清理楼道堆物", "implementer": "北京某某物业服务有限公司"})
    with scopes_disabled():
        plan = SpendingPlan.objects.get()
    detail = reverse("funds:plan_detail", args=[plan.pk])
    assert response.status_code == 302 and response["Location"] == detail
    page = staff.get(detail).content.decode()
    assert "¥200,000.00" in page  # the fund's balance
    assert '<option value="party_proposal" selected>' in page

    def record(step, **figures):
        values = {**PASSING[step], **figures}
        return staff.post(reverse("funds:plan_deliberate", args=[plan.pk]), {
            "d-step": step.value, "d-held_on": TODAY.isoformat(), "d-due": values["due"],
            "d-present": values["present"], "d-votes_for": values["votes_for"], "d-minutes": "同意"})

    assert record(DeliberationStep.PARTY_PROPOSAL).status_code == 302
    page = staff.get(detail).content.decode()
    assert '<option value="joint_discussion" selected>' in page  # the next step is preselected
    assert record(DeliberationStep.JOINT_DISCUSSION).status_code == 302
    refused = record(DeliberationStep.MEMBERS_REVIEW, due=30, present=18, votes_for=18)
    assert refused.status_code == 422
    assert "党员大会审议应到 30 人、实到 18 人，不足三分之二（20 人）" in refused.content.decode()
    assert record(DeliberationStep.MEMBERS_REVIEW, due=30, present=20, votes_for=16).status_code == 302
    # The attachment (a scanned sign-in sheet) goes with the residents' decision.
    response = staff.post(reverse("funds:plan_deliberate", args=[plan.pk]), {
        "d-step": "residents_decision", "d-held_on": TODAY.isoformat(), "d-due": 50, "d-present": 26,
        "d-votes_for": 14, "d-attachment": pdf("签到表.pdf")})
    assert response.status_code == 302
    with scopes_disabled():
        sheet = Deliberation.objects.get(step=DeliberationStep.RESIDENTS_DECISION)
    minutes = staff.get(reverse("funds:plan_minutes", args=[plan.pk, sheet.pk]))
    assert minutes.status_code == 200 and b"".join(minutes.streaming_content) == PDF_BYTES
    assert staff.post(reverse("funds:plan_submit", args=[plan.pk])).status_code == 302
    # Community staff cannot review; the hub can.
    assert staff.post(reverse("funds:plan_review", args=[plan.pk]), {"r-decision": "approve"}).status_code == 403
    assert hub.post(reverse("funds:plan_review", args=[plan.pk]), {"r-decision": "approve", "r-note": "同意"}) \
        .status_code == 302
    page = hub.get(detail).content.decode()
    assert 'name="p-amount"' in page and 'value="50000.00"' in page  # the rest to pay, by default
    too_much = hub.post(reverse("funds:plan_disburse", args=[plan.pk]), {"p-amount": "50000.01", "p-payee": "某公司"})
    assert too_much.status_code == 422 and "超过计划尚可拨付的 ¥50,000.00" in too_much.content.decode()
    assert hub.post(reverse("funds:plan_disburse", args=[plan.pk]),
                    {"p-amount": "50000.00", "p-payee": "北京某某物业服务有限公司"}).status_code == 302
    assert staff.post(reverse("funds:plan_voucher_add", args=[plan.pk]),
                      {"v-kind": "invoice", "v-upload": pdf(), "v-number": "No.1"}).status_code == 302
    with scopes_disabled():
        voucher = Voucher.objects.get()
    download = staff.get(reverse("funds:plan_voucher", args=[plan.pk, voucher.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/pdf"
    assert staff.post(reverse("funds:plan_accept", args=[plan.pk]),
                      {"a-note": "合格", "a-participants": "两委、居民代表"}).status_code == 302
    early = staff.post(reverse("funds:plan_file", args=[plan.pk]), follow=True)
    assert "期满后" in early.content.decode() and fresh(plan).status == PlanStatus.NOTICE
    later = TODAY + dt.timedelta(days=6)
    monkeypatch.setattr(plans, "_today", lambda today=None: today or later)
    assert staff.post(reverse("funds:plan_file", args=[plan.pk])).status_code == 302
    assert fresh(plan).status == PlanStatus.FILED
    page = staff.get(detail).content.decode()
    for text in ("提出计划", "社区党组织提议 · 通过", "街道审核同意", "拨付 ¥50,000.00", "登记凭证", "验收", "归档",
                 "决议公开", "实施结果公开"):
        assert text in page, text


def test_a_failed_vote_through_the_page_says_the_plan_ended(personas, fund, client_for):
    plan = propose(personas, fund)
    staff = client_for("community_staff")
    response = staff.post(reverse("funds:plan_deliberate", args=[plan.pk]), {
        "d-step": "party_proposal", "d-held_on": TODAY.isoformat(), "d-due": 7, "d-present": 7, "d-votes_for": 3,
        "d-votes_against": 4}, follow=True)
    body = response.content.decode()
    assert "表决未通过，计划已终止" in body and "须 4 票以上" in body
    assert fresh(plan).status == PlanStatus.REJECTED
