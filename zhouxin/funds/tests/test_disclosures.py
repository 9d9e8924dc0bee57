"""Disclosures (三务公开, issue 9 item 4): what each item says and never says, the fingerprint anyone
can recompute from the served content.json, the per-community chain and its verification (the
page, verify() and `manage.py verify_disclosures` all find a raw SQL change), corrections, the
refusal of phone and ID numbers, and the staff pages that preview and publish."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import disclosures, ledger, ledger_sql
from zhouxin.funds.choices import DisclosureKind, DisclosureTopic, EntryKind, PlanStatus
from zhouxin.funds.models import Deliberation, Disclosure, SpendingPlan

from . import disclosure_data as data

pytestmark = pytest.mark.django_db
D = Decimal
PUBLISH_BUTTON = '<button class="btn btn-primary" type="submit">确认发布</button>'


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(personas):
    return data.build(personas)


def items(community) -> list[Disclosure]:
    return list(Disclosure.objects.unscoped().filter(community=community).order_by("seq"))


def tamper(disclosure, *, content=None, content_hash=None):
    """A raw SQL change behind the application's back (the append-only triggers lifted for it)."""
    with transaction.atomic(), ledger_sql.GROUP.triggers_lifted(connection), connection.cursor() as cursor:
        if content is not None:
            cast = "::jsonb" if connection.vendor == "postgresql" else ""
            cursor.execute(f"UPDATE funds_disclosure SET content = %s{cast} WHERE id = %s",
                           [json.dumps(content, ensure_ascii=False), disclosure.pk])
        if content_hash is not None:
            cursor.execute("UPDATE funds_disclosure SET content_hash = %s WHERE id = %s", [content_hash, disclosure.pk])


def run_verify(*args) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_disclosures", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return exc.returncode, err.getvalue() + str(exc)
    return 0, out.getvalue()


# --- Canonical form and fingerprint ----------------------------------------------------------

def test_canonical_bytes_are_sorted_compact_utf8_and_the_hash_is_their_sha256():
    content = {"b": "多福巷", "a": [1, {"z": "12345.00", "y": 2}]}
    raw = disclosures.canonical_bytes(content)
    assert raw == '{"a":[1,{"y":2,"z":"12345.00"}],"b":"多福巷"}'.encode()
    assert disclosures.content_hash(content) == hashlib.sha256(raw).hexdigest()
    # Key order in the stored object does not matter; any change of a character does.
    assert disclosures.content_hash({"a": [1, {"y": 2, "z": "12345.00"}], "b": "多福巷"}) == \
        disclosures.content_hash(content)
    assert disclosures.content_hash({**content, "b": "多福巷 "}) != disclosures.content_hash(content)


def test_served_content_json_is_exactly_the_hashed_bytes(world):
    client = Client()
    for item in (world.decision, world.result):
        response = client.get(reverse("funds_public:content", args=[item.pk]))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert 'filename="content.json"' in response["Content-Disposition"]
        assert response.content == disclosures.canonical_bytes(item.content)
        assert hashlib.sha256(response.content).hexdigest() == item.content_hash
        page = client.get(reverse("funds_public:disclosure", args=[item.pk])).content.decode()
        assert item.content_hash in page and "内容指纹（SHA-256）" in page
        assert "sha256sum content.json" in page and "网站核验：内容与指纹一致" in page


def test_content_is_written_in_the_sites_language_whatever_the_screens(personas, world):
    """A disclosure says the same to everyone (and hashes the same) even when the staff member who
    publishes it reads the interface in English."""
    from django.utils import translation
    from django.utils.translation import gettext

    @disclosures.in_site_language
    def label():
        return gettext("接诉即办")

    with translation.override("en"):
        assert gettext("接诉即办") != "接诉即办"  # the English catalogue is there …
        assert label() == "接诉即办"  # … and published text does not use it
        english = disclosures.yearly_draft(world.fund.community, world.fund.year)
    assert english.content == disclosures.yearly_draft(world.fund.community, world.fund.year).content
    assert english.title == disclosures.yearly_title(world.fund.community, world.fund.year)


# --- What the workflow publishes ----------------------------------------------------------------

def test_the_residents_decision_is_published_with_counts_and_no_names(personas, world):
    item = world.decision
    assert (item.kind, item.topic, item.plan_id) == (DisclosureKind.IMMEDIATE, DisclosureTopic.DECISION, world.plan.pk)
    content = item.content
    assert content["plan"]["number"] == world.plan.number and content["plan"]["amount"] == "30000.00"
    assert [(d["step"], d["due"], d["present"], d["for"], d["against"], d["abstained"], d["passed"])
            for d in content["deliberations"]] == [
        ("party_proposal", 7, 7, 7, 0, 0, True), ("joint_discussion", 11, 10, 9, 1, 0, True),
        ("members_review", 30, 24, 20, 2, 2, True), ("residents_decision", 50, 40, 35, 3, 2, True)]
    raw = disclosures.canonical_bytes(content).decode()
    # The minutes name people and a phone: none of it is in the disclosure.
    for secret in ("张丽华", "李淑珍", "吴桂兰", "13812341234", "主持人"):
        assert secret not in raw
    assert item.notice_until == data.day(5)  # funds.deliberation notice_days, calendar days


def test_the_result_is_published_at_acceptance_with_its_notice_period(personas, world):
    item = world.result
    content = item.content
    assert item.topic == DisclosureTopic.RESULT and item.seq == 2 and item.prev_link == world.decision.link_hash
    assert content["amounts"] == {"planned": "30000.00", "disbursed": "30000.00", "refunded": "0.00"}
    assert content["disbursements"] == [{"date": data.day().isoformat(), "amount": "30000.00", "payee": data.PAYEE}]
    assert content["vouchers"]["count"] == 2
    assert {k["label"]: k["count"] for k in content["vouchers"]["kinds"]} == {"发票": 1, "现场照片": 1}
    assert content["notice"] == {"from": data.day().isoformat(), "until": data.day(5).isoformat(), "days": 5}
    assert item.notice_until == data.day(5)
    world.plan.refresh_from_db()
    assert world.plan.notice_until == item.notice_until  # the plan's notice is the one published
    assert "张丽华" not in disclosures.canonical_bytes(content).decode()  # acceptance participants stay internal


def test_yearly_item_lists_budget_sources_ratio_scope_and_approved_plans(personas, world):
    community = world.fund.community
    item = disclosures.publish_yearly(actor=personas.community_staff, community=community, year=world.fund.year)
    content = item.content
    fund = content["funds"][0]
    assert fund["budget"] == "200000.00" and fund["sharing_ratio"] == "1 : 1"
    assert [(s["label"], s["amount"], s["share"]) for s in fund["sources"]] == [
        ("市级财政", "100000.00", "50.0%"), ("区级财政", "100000.00", "50.0%")]
    assert fund["disbursed"] == "33200.00" and fund["balance"] == "166800.00"
    assert [p["number"] for p in content["plans"]] == sorted([world.plan.number, world.small.number])
    assert "办公经费" in content["spending_scope"]["forbidden"] and "社区环境整治" in content["spending_scope"]["allowed"]
    assert content["deliberation_threshold"] == "10000.00"
    # Third in the community's chain, linked to the second.
    assert item.seq == 3 and item.prev_link == world.result.link_hash
    assert item.link_hash == hashlib.sha256(f"{item.prev_link}|{item.content_hash}".encode()).hexdigest()
    audited = AuditEntry.objects.get(action="funds.disclosure.published", object_id=str(item.pk))
    assert audited.after["link_hash"] == item.link_hash and audited.actor == personas.community_staff


def test_quarterly_item_lists_every_disbursement_and_the_balance(personas, world):
    community = world.fund.community
    year, quarter = data.this_quarter()
    with pytest.raises(ValidationError, match="季度结束后才能公开"):
        disclosures.publish_quarterly(actor=personas.street_hub, community=community, year=year, quarter=quarter)
    item = disclosures.publish_quarterly(actor=personas.street_hub, community=community, year=year,
                                         quarter=quarter, today=data.after_quarter())
    content = item.content
    assert content["period"]["from"] <= data.day().isoformat() <= content["period"]["to"] < content["as_of"]
    assert {(row["plan_number"], row["amount"], row["payee"]) for row in content["disbursements"]} == {
        (world.plan.number, "30000.00", data.PAYEE), (world.small.number, "3200.00", data.SMALL_PAYEE)}
    assert {row["category"]: row["amount"] for row in content["spending"]} == {"社区环境整治": "30000.00",
                                                                                "公共设施小修": "3200.00"}
    assert {row["label"]: row["amount"] for row in content["income"]} == {"市级财政": "100000.00",
                                                                          "区级财政": "100000.00"}
    assert content["totals"]["closing_balance"] == "166800.00" == str(world.fund.balance)


def test_publishing_needs_the_disclose_permission_on_the_community(personas, world):
    community = world.fund.community
    for name in ("community_staff_b", "resident", "district_admin", "unit_liaison"):
        with pytest.raises(PermissionDenied):
            disclosures.publish_yearly(actor=personas.users[name], community=community, year=world.fund.year)
    assert len(items(community)) == 2


def test_a_future_quarter_or_a_year_without_funds_is_refused(personas, world):
    community = world.fund.community
    with pytest.raises(ValidationError, match="尚未设立经费"):
        disclosures.publish_yearly(actor=personas.community_staff, community=community, year=world.fund.year - 1)
    with pytest.raises(ValidationError, match="季度结束后才能公开"):
        disclosures.publish_quarterly(actor=personas.community_staff, community=community,
                                      year=world.fund.year + 1, quarter=1)


# --- Personal data is refused ---------------------------------------------------------------

def pay_directly(personas, plan, payee, amount="2000.00"):
    """Money out straight through the ledger, the way an import or a bug might write it: the plan
    services refuse such a payee at entry (plans.py), the disclosure must refuse it again."""
    with scopes_disabled():
        return ledger.post(actor=personas.street_hub, fund=plan.fund, kind=EntryKind.DISBURSEMENT,
                           amount=-D(amount), memo="健身器材维修", plan=plan, payee=payee)


def test_a_payee_typed_as_a_phone_number_can_never_go_public(personas, world):
    community = world.fund.community
    plan = data.propose(personas, world.fund, title="健身器材维修", amount="2000.00", category="公共设施小修")
    data.approve(personas, plan)
    with pytest.raises(ValidationError, match="收款单位"):  # refused where it is typed
        data.pay(personas, plan, payee="王师傅 13912345678")
    pay_directly(personas, plan, "王师傅 139 1234 5678")
    year, quarter = data.this_quarter()
    before = len(items(community))
    with pytest.raises(ValidationError) as refused:
        disclosures.publish_quarterly(actor=personas.community_staff, community=community, year=year,
                                      quarter=quarter, today=data.after_quarter())
    message = " ".join(refused.value.messages)
    assert "支出明细 › 第 3 条 › 收款单位" in message and "手机号码" in message
    assert len(items(community)) == before


def test_an_id_number_in_a_plan_is_never_published_in_its_decision(personas):
    fund = data.make_fund(personas)
    with pytest.raises(ValidationError, match="受益对象"):  # refused where it is typed
        data.propose(personas, fund, beneficiaries="困难家庭 110101198001010019")
    with scopes_disabled():
        plan = SpendingPlan.objects.unscoped().create(
            community=fund.community, fund=fund, number="JF202601010001", title="困难家庭帮扶", purpose="帮扶",
            category="困难群众帮扶", category_label="困难群众帮扶", amount=D("20000.00"),
            beneficiaries="困难家庭 110101198001010019", needs_deliberation=True, threshold=D("10000.00"),
            status=PlanStatus.DELIBERATING, proposed_by=personas.community_staff, proposed_at=timezone.now())
        Deliberation.objects.create(plan=plan, step="residents_decision", held_on=data.day(), due=50, present=40,
                                    votes_for=35, passed=True, recorded_by=personas.community_staff)
    with pytest.raises(ValidationError) as refused:
        disclosures.publish_decision(actor=personas.community_staff, plan=plan)
    message = " ".join(refused.value.messages)
    assert "支出计划 › 受益对象" in message and "身份证号码" in message
    assert not Disclosure.objects.unscoped().exists()


@pytest.mark.parametrize("text, found", [
    ("13912345678", "手机号码"), ("139-1234-5678", "手机号码"), ("１３９１２３４５６７８", "手机号码"),
    ("11010119800101007X", "身份证号码"), ("110101 19800101 0019", "身份证号码"),
    ("JF202601150001", None), ("110101001001", None), ("12345678901.00", None), ("BA20260001", None),
    ("010-65121234", None),
])
def test_the_personal_data_check_finds_numbers_not_codes(text, found):
    problems = disclosures.personal_data_problems({"plan": {"title": text}})
    if found:
        assert len(problems) == 1 and found in problems[0] and "支出计划 › 名称" in problems[0]
    else:
        assert problems == []


# --- Corrections --------------------------------------------------------------------------------

def test_a_correction_supersedes_and_the_old_page_says_so(personas, world):
    community, year = world.fund.community, world.fund.year
    first = disclosures.publish_yearly(actor=personas.community_staff, community=community, year=year)
    with pytest.raises(ValidationError, match="内容没有变化"):
        disclosures.publish_yearly(actor=personas.community_staff, community=community, year=year)
    plan = data.propose(personas, world.fund, title="儿童活动室修缮", amount="5000.00", category="少年儿童服务")
    data.approve(personas, plan)
    with pytest.raises(ValidationError, match="请填写更正原因"):
        disclosures.publish_yearly(actor=personas.community_staff, community=community, year=year)
    second = disclosures.publish_yearly(actor=personas.community_staff, community=community, year=year,
                                        reason="补充新备案的支出计划")
    assert second.supersedes_id == first.pk and second.seq == first.seq + 1
    assert second.content["correction"] == {"supersedes_seq": first.seq, "supersedes_hash": first.content_hash,
                                            "reason": "补充新备案的支出计划"}
    client = Client()
    old_page = client.get(reverse("funds_public:disclosure", args=[first.pk])).content.decode()
    assert "已被更正" in old_page and reverse("funds_public:disclosure", args=[second.pk]) in old_page
    new_page = client.get(reverse("funds_public:disclosure", args=[second.pk])).content.decode()
    assert "已被更正" not in new_page and "补充新备案的支出计划" in new_page
    assert reverse("funds_public:disclosure", args=[first.pk]) in new_page
    listing = client.get(reverse("funds_public:community", args=[community.code])).content.decode()
    assert listing.count("已被更正") == 1
    # The old item is still there, unchanged, and the chain holds.
    first.refresh_from_db()
    assert disclosures.verify(first).ok and disclosures.verify_chain(community) is None


def test_the_workflow_gets_the_decision_back_when_nothing_changed(personas, world):
    again = disclosures.publish_decision(actor=personas.community_staff, plan=world.plan)
    assert again.pk == world.decision.pk and len(items(world.fund.community)) == 2


# --- Verification --------------------------------------------------------------------------------

def test_a_raw_sql_change_of_the_content_is_shown_on_the_page_and_named_by_verify_disclosures(personas, world):
    assert run_verify() == (0, "三务公开校验通过：1 个社区，2 条公开。\n")
    changed = {**world.decision.content, "plan": {**world.decision.content["plan"], "amount": "3000.00"}}
    tamper(world.decision, content=changed)
    item = Disclosure.objects.unscoped().get(pk=world.decision.pk)
    client = Client()
    served = client.get(reverse("funds_public:content", args=[item.pk])).content
    assert hashlib.sha256(served).hexdigest() != item.content_hash  # what a resident's sha256sum shows
    page = client.get(reverse("funds_public:disclosure", args=[item.pk])).content.decode()
    assert "网站核验：内容与指纹不一致" in page and "alert-danger" in page and "¥3,000.00" in page
    result = disclosures.verify(item)
    assert not result.ok and not result.content_ok and result.link_ok
    assert disclosures.verify_chain(item.community) == 1
    code, output = run_verify()
    assert code == 1
    assert f"第 1 条“{item.title}”（ID {item.pk}）" in output and "内容与指纹不符" in output
    assert "多福巷社区（110101001001）" in output
    # Pasting the true fingerprint from the notice board: it is this item's, but the content changed.
    check = client.get(reverse("funds_public:check", args=[item.pk]), {"fingerprint": item.content_hash})
    assert "一致：您输入的指纹就是本条公开的内容指纹" in check.content.decode()
    assert "内容在公开后被改动过" in check.content.decode()


def test_rewriting_the_fingerprint_too_breaks_the_chain(personas, world):
    changed = {**world.decision.content, "decided_on": "2020-01-01"}
    tamper(world.decision, content=changed, content_hash=disclosures.content_hash(changed))
    item = Disclosure.objects.unscoped().get(pk=world.decision.pk)
    result = disclosures.verify(item)
    assert result.content_ok and not result.link_ok and "链条断开" in " ".join(result.messages)
    page = Client().get(reverse("funds_public:disclosure", args=[item.pk])).content.decode()
    assert "网站核验：内容与指纹不一致" in page and "链条断开" in page
    code, output = run_verify("--community", item.community.code)
    assert code == 1 and "第 1 条" in output and "链接哈希与指纹不符" in output


def test_a_dropped_newest_item_is_found_through_the_audit_log(personas, world):
    with transaction.atomic(), ledger_sql.GROUP.triggers_lifted(connection), connection.cursor() as cursor:
        cursor.execute("DELETE FROM funds_disclosure WHERE id = %s", [world.result.pk])
    assert disclosures.verify_chain(world.fund.community) == 2
    code, output = run_verify()
    assert code == 1 and "末尾的公开被删除" in output


def test_verify_disclosures_refuses_an_unknown_community(db):
    assert run_verify("--community", "999")[0] != 0


def test_a_pasted_fingerprint_is_checked_against_the_item(personas, world):
    client = Client()
    url = reverse("funds_public:check", args=[world.result.pk])
    spaced = " ".join(world.result.content_hash[i:i + 8].upper() for i in range(0, 64, 8))
    same = client.get(url, {"fingerprint": spaced}).content.decode()
    assert "一致：您输入的指纹就是本条公开的内容指纹" in same and "公开后没有被改动" in same
    wrong = world.result.content_hash[:-1] + ("0" if world.result.content_hash[-1] != "0" else "1")
    answer = client.get(url, {"fingerprint": wrong}).content.decode()
    assert "不一致：您输入的指纹与本条公开的内容指纹不同" in answer and "alert-danger" in answer
    other = client.get(url, {"fingerprint": world.decision.content_hash}).content.decode()
    assert "这个指纹属于本社区的另一条公开" in other and world.decision.title in other
    short = client.get(url, {"fingerprint": "abc123"}).content.decode()
    assert "64 位十六进制字符" in short
    assert "请输入公告栏上印的内容指纹" in client.get(url).content.decode()


# --- Concurrency (PostgreSQL) ---------------------------------------------------------------------

@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so two "
                           "publications cannot overlap there; the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_concurrent_publications_in_one_community_keep_one_chain(personas):
    fund = data.make_fund(personas)
    community = fund.community
    year, quarter = data.this_quarter()
    jobs = [
        lambda: disclosures.publish_yearly(actor=personas.community_staff, community=community, year=fund.year),
        lambda: disclosures.publish_yearly(actor=personas.street_hub, community=community, year=fund.year),
        lambda: disclosures.publish_quarterly(actor=personas.street_hub, community=community, year=year,
                                              quarter=quarter, today=data.after_quarter()),
    ]
    barrier = threading.Barrier(len(jobs))
    outcomes: list[str] = []

    def run(job):
        try:
            with transaction.atomic():
                barrier.wait(timeout=10)
                job()
                time.sleep(0.3)
            outcomes.append("published")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=[job]) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes.count("published") == 2, outcomes
    assert any("内容没有变化" in o for o in outcomes), outcomes
    assert [d.seq for d in items(community)] == [1, 2]
    assert disclosures.verify_chain(community) is None


# --- Staff pages -----------------------------------------------------------------------------------

def test_staff_list_shows_the_area_items_only(personas, world, client_for):
    other = data.make_fund(personas, "community_b")
    hidden = disclosures.publish_yearly(actor=personas.community_staff_b, community=other.community,
                                        year=other.year)
    page = client_for("street_hub").get(reverse("funds:disclosure_list")).content.decode()
    assert world.decision.title in page and world.result.title in page and hidden.title not in page
    assert "公示中" in page and reverse("funds:disclosure_publish_yearly") in page
    admin = client_for("district_admin").get(reverse("funds:disclosure_list")).content.decode()
    assert hidden.title in admin and world.decision.title in admin
    assert reverse("funds:disclosure_publish_yearly") not in admin  # the district reads, it does not publish
    filtered = client_for("district_admin").get(reverse("funds:disclosure_list"), {"kind": "yearly"}).content.decode()
    assert hidden.title in filtered and world.decision.title not in filtered


def test_staff_detail_shows_the_check_and_the_fingerprint_for_the_notice_board(personas, world, client_for):
    page = client_for("community_staff").get(reverse("funds:disclosure_detail", args=[world.result.pk]))
    body = page.content.decode()
    assert page.status_code == 200 and world.result.content_hash in body and "内容与指纹一致" in body
    assert " ".join(world.result.content_hash[i:i + 8] for i in range(0, 64, 8)) in body
    assert client_for("community_staff_b").get(
        reverse("funds:disclosure_detail", args=[world.result.pk])).status_code == 404


def test_preview_then_publish_the_yearly_item(personas, world, client_for):
    client = client_for("community_staff")
    code, year = world.fund.community.code, world.fund.year
    form = client.get(reverse("funds:disclosure_publish_yearly"))
    assert form.status_code == 200 and "预览公开内容" in form.content.decode()
    preview = client.get(reverse("funds:disclosure_preview"), {"kind": "yearly", "community": code, "year": year})
    body = preview.content.decode()
    draft = disclosures.yearly_draft(world.fund.community, year)
    assert preview.status_code == 200 and draft.content_hash in body and "¥200,000.00" in body
    assert PUBLISH_BUTTON in body and len(items(world.fund.community)) == 2  # a preview writes nothing
    response = client.post(reverse("funds:disclosure_publish_yearly"), {"community": code, "year": year})
    created = items(world.fund.community)[-1]
    assert response.status_code == 302 and response.url == reverse("funds:disclosure_detail", args=[created.pk])
    assert created.content_hash == draft.content_hash and created.kind == DisclosureKind.YEARLY
    again = client.get(reverse("funds:disclosure_preview"), {"kind": "yearly", "community": code, "year": year})
    assert "内容没有变化" in again.content.decode() and PUBLISH_BUTTON not in again.content.decode()
    refused = client.post(reverse("funds:disclosure_publish_yearly"), {"community": code, "year": year})
    assert refused.status_code == 422 and "内容没有变化" in refused.content.decode()


def test_preview_shows_personal_data_and_offers_no_publish_button(personas, world, client_for, monkeypatch):
    plan = data.propose(personas, world.fund, title="健身器材维修", amount="2000.00", category="公共设施小修")
    data.approve(personas, plan)
    pay_directly(personas, plan, "13912345678")
    year, quarter = data.this_quarter()
    later = data.after_quarter()
    monkeypatch.setattr(disclosures.timezone, "localdate", lambda: later)  # the quarter is over
    preview = client_for("street_hub").get(reverse("funds:disclosure_preview"), {
        "kind": "quarterly", "community": world.fund.community.code, "year": year, "quarter": quarter})
    body = preview.content.decode()
    assert preview.status_code == 200 and "不能公开：内容中有个人信息" in body and "收款单位" in body
    assert PUBLISH_BUTTON not in body


def test_publish_form_refuses_a_community_outside_ones_area(personas, world, client_for):
    other = data.make_fund(personas, "community_b")
    params = {"kind": "yearly", "community": other.community.code, "year": other.year}
    assert client_for("street_hub").get(reverse("funds:disclosure_preview"), params).status_code == 404
    assert client_for("street_hub").post(reverse("funds:disclosure_publish_yearly"),
                                         {"community": other.community.code, "year": other.year}).status_code == 404
    assert client_for("resident").get(reverse("funds:disclosure_preview"), params).status_code == 403
    assert not Disclosure.objects.unscoped().filter(community=other.community).exists()
