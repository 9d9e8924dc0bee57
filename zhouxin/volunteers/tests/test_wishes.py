"""Micro-wishes (微心愿) and the three-order chain: 居民点单 → 社区下单 → 党员接单 → completion →
thanks, through the portal and the staff site; the value cap of the policy in force; held texts;
the take race; points once; a resident never sees or thanks another's wish."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.moderation import lexicon
from zhouxin.moderation import services as moderation
from zhouxin.moderation.models import ModerationItem
from zhouxin.moderation.services import seed_default_lexicon
from zhouxin.portal import sms
from zhouxin.portal.models import ResidentAccount
from zhouxin.portal.tests.helpers import signed_in
from zhouxin.testing.clients import verified_client
from zhouxin.volunteers import points, wishes
from zhouxin.volunteers.choices import PointSource, RegistrationStatus, WishStatus
from zhouxin.volunteers.models import PointEntry, UnitRegistration, Wish
from zhouxin.volunteers.policy import WISHES_KEY

PHONE, OTHER_PHONE, MEMBER_PHONE = "13912345678", "13700001111", "13900001111"
SPAM = "真人百家乐，注册送彩金，提款秒到"


def _body(response) -> str:
    return response.content.decode()


def _account(phone: str) -> ResidentAccount:
    from zhouxin.core.crypto import blind_index

    now = timezone.now()
    return ResidentAccount.objects.create(phone=phone, phone_index=blind_index("phone", phone),
                                          consent_version="2026-11", created_at=now, last_signed_in_at=now)


def _wish_texts() -> list[sms.Message]:
    return [m for m in sms.outbox if "微心愿" in m.text]


def _posted(personas, title="一台收音机", community="community_a", value=80) -> Wish:
    with scopes_disabled():
        return wishes.wish_create(actor=personas.community_staff if community == "community_a"
                                  else personas.community_staff_b, community=personas.areas[community],
                                  title=title, beneficiary="独居老人", value=value)


@pytest.fixture
def seeded(db):
    with scopes_disabled():
        seed_default_lexicon()
    lexicon.reset_cache()


# --- The whole chain ------------------------------------------------------------------------

def test_the_three_order_chain_from_order_to_thanks(personas, client_for, django_capture_on_commit_callbacks):
    a = personas.areas
    resident = signed_in(PHONE)
    sms.outbox.clear()
    # 居民点单 on the portal.
    response = resident.post(reverse("volunteers_public:wish_order"), {
        "community": a["community_a"].code, "title": "想要一台收音机", "beneficiary": "独居老人 王奶奶",
        "value": "120", "description": "眼睛不好，想听新闻。住3号楼502，电话13912345678。"})
    wish = Wish.objects.unscoped().get()
    assert response.status_code == 302 and response.url == reverse("volunteers_public:wish", args=[wish.number])
    assert wish.status == WishStatus.ORDERED and wish.number.startswith("WX" + timezone.localdate().strftime("%Y%m%d"))
    assert wish.ordered_by.phone == PHONE and wish.value == Decimal("120.00")
    assert "居民点单" in _body(resident.get(response.url))
    # Not on the wall, and nobody else finds it.
    assert "想要一台收音机" not in _body(Client().get(reverse("volunteers_public:wishes")))
    assert Client().get(response.url).status_code == 404

    # 社区下单: the board lists it first; staff edit out the personal details and post it.
    staff = client_for("community_staff")
    board = _body(staff.get(reverse("volunteers:wish_board")))
    assert "想要一台收音机" in board and "居民点单" in board
    detail = _body(staff.get(reverse("volunteers:wish_detail", args=[wish.pk])))
    assert "居民（139****5678）" in detail  # the orderer masked; the text as written, for staff to edit
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("volunteers:wish_post", args=[wish.pk]), {
            "title": "想要一台收音机", "beneficiary": "独居老人", "value": "120", "description": "眼睛不好，想听新闻。"})
    assert response.status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.POSTED and wish.posted_by == personas.community_staff
    assert wish.beneficiary == "独居老人" and "13912345678" not in wish.description
    assert [m.phone for m in _wish_texts()] == [PHONE] and "已由社区发布" in _wish_texts()[0].text

    # The wall: title, beneficiary, value, community — never who ordered.
    wall = _body(Client().get(reverse("volunteers_public:wishes")))
    assert "想要一台收音机" in wall and "独居老人" in wall and "120" in wall and "多福巷社区" in wall
    assert PHONE not in wall and "139****5678" not in wall and "王奶奶" not in wall

    # 党员接单 on the portal: 周海燕's phone makes the account hers.
    member = signed_in(MEMBER_PHONE)
    page = _body(member.get(reverse("volunteers_public:wish", args=[wish.number])))
    assert "我来认领" in page
    with django_capture_on_commit_callbacks(execute=True):
        assert member.post(reverse("volunteers_public:wish_take", args=[wish.number])).status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.TAKEN and wish.taken_by_person == personas.people["member_a"]
    taken_text = _wish_texts()[-1]
    assert taken_text.phone == PHONE and "已有人认领" in taken_text.text
    assert MEMBER_PHONE not in taken_text.text and "周海燕" not in taken_text.text
    assert "我认领的心愿" in _body(member.get(reverse("volunteers_public:wishes_mine")))
    # Staff of the area see the member's name with the phone masked; the public page does not.
    detail = _body(staff.get(reverse("volunteers:wish_detail", args=[wish.pk])))
    assert "周海燕" in detail and "139****1111" in detail and MEMBER_PHONE not in detail
    public = _body(Client().get(reverse("volunteers_public:wish", args=[wish.number])))
    assert "周海燕" not in public and "在职党员" in public

    # The community confirms completion: points for the member, a text to the resident.
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(reverse("volunteers:wish_complete", args=[wish.pk]), {"note": "已送到"}).status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.COMPLETED and wish.completed_at and wish.confirmed_by == personas.community_staff
    entry = PointEntry.objects.unscoped().get(source=PointSource.WISH, source_id=wish.pk)
    assert entry.person == personas.people["member_a"] and entry.points == Decimal("5.0")
    assert "已完成" in _wish_texts()[-1].text and _wish_texts()[-1].phone == PHONE

    # The resident thanks and rates.
    page = _body(resident.get(reverse("volunteers_public:wish", args=[wish.number])))
    assert "感谢与评价" in page
    response = resident.post(reverse("volunteers_public:wish_thank", args=[wish.number]),
                             {"stars": "5", "thanks": "谢谢党员同志，收音机很好用！"})
    assert response.status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.THANKED and wish.stars == 5 and wish.thanks_visible
    assert "收音机很好用" in _body(Client().get(reverse("volunteers_public:wish", args=[wish.number])))
    # Every text went to the orderer only.
    assert {m.phone for m in _wish_texts()} == {PHONE}
    actions = set(AuditEntry.objects.filter(object_type="volunteers.wish", object_id=str(wish.pk))
                  .values_list("action", flat=True))
    assert {"volunteers.wish.ordered", "volunteers.wish.posted", "volunteers.wish.taken",
            "volunteers.wish.completed", "volunteers.wish.thanked"} <= actions


def test_ordering_needs_a_resident_session(personas):
    response = Client().get(reverse("volunteers_public:wish_order"))
    assert response.status_code == 302 and response.url.startswith(reverse("portal:signin") + "?next=")
    response = Client().get(reverse("volunteers_public:wishes_mine"))
    assert response.status_code == 302 and response.url.startswith(reverse("portal:signin"))
    with pytest.raises(PermissionDenied):
        wishes.wish_order(account=None, community=personas.areas["community_a"], title="x", beneficiary="y",
                          value=1)


def test_bad_input_gets_chinese_messages_and_changes_nothing(personas):
    resident = signed_in(PHONE)
    response = resident.post(reverse("volunteers_public:wish_order"), {
        "community": personas.areas["street_a"].code, "title": "", "beneficiary": "", "value": "-5"})
    assert response.status_code == 422
    body = _body(response)
    assert "请选择心愿所在的社区" in body and "请填写心愿内容" in body
    assert not Wish.objects.unscoped().exists()
    account = ResidentAccount.objects.get()
    with pytest.raises(ValidationError) as error:
        wishes.wish_order(account=account, community=personas.areas["community_a"], title="收音机",
                          beneficiary="老人", value="0")
    assert "心愿价值必须大于 0。" in error.value.messages
    assert not Wish.objects.unscoped().exists()


# --- Value cap from the policy in force --------------------------------------------------------

def test_value_cap_follows_the_policy_version_in_force(personas, monkeypatch):
    a = personas.areas
    account = _account(PHONE)

    def order(value):
        return wishes.wish_order(account=account, community=a["community_a"], title="一辆助行器",
                                 beneficiary="行动不便的老人", value=value)

    assert order("200").value == Decimal("200.00")  # the default cap, ¥200, is allowed
    with pytest.raises(ValidationError) as error:
        order("250")
    assert "心愿价值不能超过 200 元（本市微心愿价值上限）。" in error.value.messages
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key=WISHES_KEY, value={"value_cap": 300},
                          effective_from=tomorrow, city=a["city"], note="提高上限")
    with pytest.raises(ValidationError):  # not yet in force today
        order("250")
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() + dt.timedelta(days=1))
    assert order("250").value == Decimal("250.00")
    with pytest.raises(ValidationError) as error:
        order("300.01")
    assert "心愿价值不能超过 300 元（本市微心愿价值上限）。" in error.value.messages
    assert Wish.objects.unscoped().count() == 2


def test_staff_posting_applies_the_cap_and_can_only_post_ordered_wishes(personas):
    account = _account(PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=account, community=personas.areas["community_a"], title="一台电饭煲",
                                 beneficiary="困难家庭", value=150)
        with pytest.raises(ValidationError):
            wishes.wish_post(actor=personas.community_staff, wish=wish, value="201")
        wish.refresh_from_db()
        assert wish.status == WishStatus.ORDERED and wish.value == Decimal("150.00")
        with pytest.raises(PermissionDenied):
            wishes.wish_post(actor=personas.community_staff_b, wish=wish)
        wishes.wish_post(actor=personas.street_hub, wish=wish)
        with pytest.raises(ValidationError):
            wishes.wish_post(actor=personas.community_staff, wish=wish)
        with pytest.raises(ValidationError):
            wishes.wish_reject(actor=personas.community_staff, wish=wish, reason="重复")


def test_staff_reject_with_a_reason_the_resident_reads(personas, django_capture_on_commit_callbacks):
    account = _account(PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=account, community=personas.areas["community_a"], title="一部新手机",
                                 beneficiary="居民", value=199)
    staff = verified_client(personas, "community_staff")
    response = staff.post(reverse("volunteers:wish_reject", args=[wish.pk]), {"reason": ""})
    assert response.status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.ORDERED
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("volunteers:wish_reject", args=[wish.pk]), {"reason": "不属于困难群众的基本生活需求"})
    wish.refresh_from_db()
    assert wish.status == WishStatus.REJECTED and wish.decision_note == "不属于困难群众的基本生活需求"
    assert _wish_texts()[-1].phone == PHONE and "未通过" in _wish_texts()[-1].text
    resident = signed_in(PHONE)
    page = _body(resident.get(reverse("volunteers_public:wish", args=[wish.number])))
    assert "不属于困难群众的基本生活需求" in page


def test_staff_enter_a_paper_wish_posted_at_once(personas, client_for):
    staff = client_for("community_staff")
    assert staff.get(reverse("volunteers:wish_create")).status_code == 200
    response = staff.post(reverse("volunteers:wish_create"), {
        "community": personas.areas["community_a"].pk, "title": "一套冬衣", "beneficiary": "低保家庭",
        "value": "180"})
    wish = Wish.objects.unscoped().get()
    assert response.status_code == 302 and wish.status == WishStatus.POSTED and wish.ordered_by is None
    assert "一套冬衣" in _body(Client().get(reverse("volunteers_public:wishes")))
    response = staff.post(reverse("volunteers:wish_create"), {
        "community": personas.areas["community_a"].pk, "title": "一套冬衣", "beneficiary": "低保家庭",
        "value": "500"})
    assert response.status_code == 422 and "200 元" in _body(response)
    assert Wish.objects.unscoped().count() == 1


# --- Held texts ----------------------------------------------------------------------------------

def test_spam_wish_is_held_cannot_be_posted_and_never_reaches_the_wall(personas, seeded, client_for):
    resident = signed_in(PHONE)
    resident.post(reverse("volunteers_public:wish_order"), {
        "community": personas.areas["community_a"].code, "title": "想要奖品", "beneficiary": "居民",
        "value": "100", "description": SPAM})
    wish = Wish.objects.unscoped().get()
    assert wish.status == WishStatus.ORDERED and wish.description == SPAM  # kept, waiting
    item = ModerationItem.objects.unscoped().get(source_key=f"volunteers.wish:{wish.pk}")
    assert "您的心愿内容正在审核" in _body(resident.get(reverse("volunteers_public:wish", args=[wish.number])))
    staff = client_for("community_staff")
    assert "内容审核中" in _body(staff.get(reverse("volunteers:wish_detail", args=[wish.pk])))
    staff.post(reverse("volunteers:wish_post", args=[wish.pk]), {"title": "想要奖品", "beneficiary": "居民",
                                                                  "value": "100", "description": SPAM})
    wish.refresh_from_db()
    assert wish.status == WishStatus.ORDERED
    assert SPAM not in _body(Client().get(reverse("volunteers_public:wishes")))
    assert Client().get(reverse("volunteers_public:wish", args=[wish.number])).status_code == 404
    # In the reviewers' queue under its own tab; rejected there, the wish is rejected.
    hub = client_for("street_hub")
    queue = _body(hub.get(reverse("moderation:queue") + "?source=volunteers-wishes"))
    assert "微心愿" in queue and "命中违规词" in queue
    assert SPAM not in _body(client_for("outsider").get(reverse("moderation:queue")))
    url = reverse("moderation:decide", args=["volunteers-wishes", item.pk, "reject"])
    assert hub.post(url, {"note": "赌博广告"}).status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.REJECTED and wish.decision_note == "赌博广告"


def test_released_wish_text_can_then_be_posted(personas, seeded):
    account = _account(PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=account, community=personas.areas["community_a"], title="一台收音机",
                                 beneficiary="独居老人", value=90, description=SPAM)
        with pytest.raises(ValidationError):
            wishes.wish_post(actor=personas.community_staff, wish=wish)
        item = ModerationItem.objects.unscoped().get(source_key=f"volunteers.wish:{wish.pk}")
        moderation.item_release(actor=personas.street_hub, item=item, note="核实为正常心愿")
        wishes.wish_post(actor=personas.community_staff, wish=wish, description="想听新闻")
    wish.refresh_from_db()
    assert wish.status == WishStatus.POSTED


def test_held_thanks_stay_hidden_until_released(personas, seeded):
    account, taker = _account(PHONE), _account(OTHER_PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=account, community=personas.areas["community_a"], title="一台收音机",
                                 beneficiary="独居老人", value=90)
        wishes.wish_post(actor=personas.community_staff, wish=wish)
        wishes.wish_take(account=taker, wish=wish)
        wishes.wish_complete(actor=personas.community_staff, wish=wish)
        wishes.wish_thank(account=account, wish=wish, stars=4, thanks=SPAM)
    wish.refresh_from_db()
    assert wish.status == WishStatus.THANKED and wish.stars == 4 and not wish.thanks_visible
    page = reverse("volunteers_public:wish", args=[wish.number])
    assert SPAM not in _body(Client().get(page))
    item = ModerationItem.objects.unscoped().get(source_key=f"volunteers.wish_thanks:{wish.pk}")
    with scopes_disabled():
        moderation.item_release(actor=personas.street_hub, item=item, note="正常")
    assert SPAM in _body(Client().get(page))


def test_thanks_holding_an_id_number_are_refused_and_nothing_changes(personas, seeded):
    account, taker = _account(PHONE), _account(OTHER_PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=account, community=personas.areas["community_a"], title="一台收音机",
                                 beneficiary="独居老人", value=90)
        wishes.wish_post(actor=personas.community_staff, wish=wish)
        wishes.wish_take(account=taker, wish=wish)
        wishes.wish_complete(actor=personas.community_staff, wish=wish)
        with pytest.raises(ValidationError) as refused:
            wishes.wish_thank(account=account, wish=wish, stars=5, thanks="谢谢！我的身份证 11010119800101007X")
    assert "身份证号码" in " ".join(refused.value.messages)
    wish.refresh_from_db()
    assert wish.status == WishStatus.COMPLETED and wish.stars is None


# --- Taking, giving back, the race ---------------------------------------------------------------

def test_a_taker_may_give_the_wish_back_and_the_orderer_cannot_take_their_own(personas):
    account, taker = _account(PHONE), _account(OTHER_PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=account, community=personas.areas["community_a"], title="一台收音机",
                                 beneficiary="独居老人", value=90)
        with pytest.raises(ValidationError):  # not posted yet
            wishes.wish_take(account=taker, wish=wish)
        wishes.wish_post(actor=personas.community_staff, wish=wish)
        with pytest.raises(ValidationError):
            wishes.wish_take(account=account, wish=wish)
        wishes.wish_take(account=taker, wish=wish)
        with pytest.raises(PermissionDenied):
            wishes.wish_give_back(account=account, wish=wish)
        wishes.wish_give_back(account=taker, wish=wish)
    wish.refresh_from_db()
    assert wish.status == WishStatus.POSTED and wish.taken_by_account is None and wish.taken_at is None
    client = signed_in(OTHER_PHONE)
    client.post(reverse("volunteers_public:wish_take", args=[wish.number]))
    wish.refresh_from_db()
    assert wish.status == WishStatus.TAKEN and wish.taken_by_person is None  # a resident volunteer
    assert "放弃认领" in _body(client.get(reverse("volunteers_public:wish", args=[wish.number])))


def test_a_unit_liaison_takes_a_wish_for_the_unit_on_the_staff_site(personas, client_for):
    own = _posted(personas, title="一台收音机")
    elsewhere = _posted(personas, title="吉祥社区的心愿", community="community_b")
    liaison = client_for("unit_liaison")
    board = _body(liaison.get(reverse("volunteers:wish_board")))
    assert "一台收音机" in board and "吉祥社区的心愿" not in board
    assert liaison.get(reverse("volunteers:wish_detail", args=[elsewhere.pk])).status_code == 404
    # Registered (and confirmed) with 吉祥社区, the unit may take its wishes too.
    with scopes_disabled():
        UnitRegistration.objects.create(unit=personas.orgs["unit"], community=personas.areas["community_b"],
                                        status=RegistrationStatus.CONFIRMED, registered_by=personas.unit_liaison,
                                        registered_at=timezone.now())
    assert "吉祥社区的心愿" in _body(liaison.get(reverse("volunteers:wish_board")))
    unit = personas.orgs["unit"]
    response = liaison.post(reverse("volunteers:wish_take", args=[own.pk]), {"unit": unit.pk})
    assert response.status_code == 302
    own.refresh_from_db()
    assert own.status == WishStatus.TAKEN and own.taken_by_unit == unit and own.taken_by_person is None
    assert unit.name in _body(Client().get(reverse("volunteers_public:wish", args=[own.number])))
    # Still the unit's to see; it may give it back.
    assert liaison.post(reverse("volunteers:wish_give_back", args=[own.pk])).status_code == 302
    own.refresh_from_db()
    assert own.status == WishStatus.POSTED and own.taken_by_unit is None


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so two "
                           "takers cannot overlap there; the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_takers_at_once_exactly_one_wins(personas):
    wish = _posted(personas)
    takers = [_account(PHONE), _account(OTHER_PHONE)]
    barrier = threading.Barrier(len(takers))
    won: list[int] = []
    lost: list[str] = []
    failures: list[str] = []

    def take(account):
        try:
            with scopes_disabled(), transaction.atomic():
                barrier.wait(timeout=10)  # both transactions are open before either takes
                wishes.wish_take(account=account, wish=wish)
                won.append(account.pk)
                time.sleep(0.3)  # the other take runs while this one is not yet committed
        except ValidationError as exc:
            lost.append(exc.messages[0])
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=take, args=(account,)) for account in takers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    assert len(won) == 1 and len(lost) == 1
    wish.refresh_from_db()
    assert wish.status == WishStatus.TAKEN and wish.taken_by_account_id == won[0]
    assert AuditEntry.objects.filter(action="volunteers.wish.taken", object_id=str(wish.pk)).count() == 1


# --- Points --------------------------------------------------------------------------------------

def test_points_are_awarded_once_for_a_member_taker(personas):
    member = _account(MEMBER_PHONE)
    wish = _posted(personas)
    with scopes_disabled():
        wishes.wish_take(account=member, wish=wish)
        wishes.wish_complete(actor=personas.community_staff, wish=wish)
        with pytest.raises(ValidationError):
            wishes.wish_complete(actor=personas.community_staff, wish=wish)
        again = points.award(person=personas.people["member_a"], source=PointSource.WISH, source_id=wish.pk,
                             on=timezone.localdate(), rule="per_wish")
    assert again is None
    rows = PointEntry.objects.unscoped().filter(source=PointSource.WISH, source_id=wish.pk)
    assert rows.count() == 1 and points.total([personas.people["member_a"].pk]) == {
        personas.people["member_a"].pk: Decimal("5.0")}
    # A resident volunteer (no Party member) earns no points.
    other = _posted(personas, title="一套绘本")
    with scopes_disabled():
        wishes.wish_take(account=_account(OTHER_PHONE), wish=other)
        wishes.wish_complete(actor=personas.community_staff, wish=other)
    assert not PointEntry.objects.unscoped().filter(source_id=other.pk).exists()


# --- Privacy: a resident's own wishes ------------------------------------------------------------

def test_a_resident_cannot_see_or_thank_anothers_wish(personas):
    owner, other = _account(PHONE), _account(OTHER_PHONE)
    with scopes_disabled():
        pending = wishes.wish_order(account=owner, community=personas.areas["community_a"], title="私人心愿",
                                    beneficiary="独居老人", value=50)
        done = wishes.wish_order(account=owner, community=personas.areas["community_a"], title="完成的心愿",
                                 beneficiary="独居老人", value=50)
        wishes.wish_post(actor=personas.community_staff, wish=done)
        wishes.wish_take(account=_account(MEMBER_PHONE), wish=done)
        wishes.wish_complete(actor=personas.community_staff, wish=done)
    client = signed_in(OTHER_PHONE)
    assert client.get(reverse("volunteers_public:wish", args=[pending.number])).status_code == 404
    mine = _body(client.get(reverse("volunteers_public:wishes_mine")))
    assert "私人心愿" not in mine and "完成的心愿" not in mine
    page = _body(client.get(reverse("volunteers_public:wish", args=[done.number])))
    assert reverse("volunteers_public:wish_thank", args=[done.number]) not in page  # no thanks form
    assert client.post(reverse("volunteers_public:wish_thank", args=[done.number]),
                       {"stars": "1", "thanks": "差评"}).status_code == 404
    assert client.post(reverse("volunteers_public:wish_withdraw", args=[pending.number])).status_code == 404
    done.refresh_from_db()
    assert done.status == WishStatus.COMPLETED and done.stars is None
    with scopes_disabled(), pytest.raises(PermissionDenied):
        wishes.wish_thank(account=other, wish=done, stars=1)
    # The owner sees both, with the timeline, and thanks only once.
    owner_client = signed_in(PHONE)
    mine = _body(owner_client.get(reverse("volunteers_public:wishes_mine")))
    assert "私人心愿" in mine and "完成的心愿" in mine and "社区下单" in mine
    assert owner_client.post(reverse("volunteers_public:wish_thank", args=[done.number]),
                             {"stars": "5"}).status_code == 302
    response = owner_client.post(reverse("volunteers_public:wish_thank", args=[done.number]), {"stars": "1"})
    assert response.status_code == 422
    done.refresh_from_db()
    assert done.stars == 5


def test_the_orderer_withdraws_a_wish_nobody_took(personas):
    owner = _account(PHONE)
    with scopes_disabled():
        wish = wishes.wish_order(account=owner, community=personas.areas["community_a"], title="一台收音机",
                                 beneficiary="独居老人", value=50)
    client = signed_in(PHONE)
    assert client.post(reverse("volunteers_public:wish_withdraw", args=[wish.number])).status_code == 302
    wish.refresh_from_db()
    assert wish.status == WishStatus.WITHDRAWN
    assert Client().get(reverse("volunteers_public:wish", args=[wish.number])).status_code == 404


# --- Query counts --------------------------------------------------------------------------------

def test_board_and_wall_query_counts_do_not_grow_with_the_wishes(personas, client_for):
    from django.db import connection as conn
    from django.test.utils import CaptureQueriesContext

    staff = client_for("community_staff")
    member = _account(MEMBER_PHONE)

    def counts():
        with CaptureQueriesContext(conn) as board:
            assert staff.get(reverse("volunteers:wish_board")).status_code == 200
        with CaptureQueriesContext(conn) as wall:
            assert Client().get(reverse("volunteers_public:wishes")).status_code == 200
        return len(board), len(wall)

    def add(n):
        for i in range(n):
            wish = _posted(personas, title=f"心愿{i}")
            if i % 2:
                with scopes_disabled():
                    wishes.wish_take(account=member, wish=wish)

    add(2)
    few = counts()
    add(8)
    assert counts() == few
