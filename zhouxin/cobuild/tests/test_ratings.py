"""The public side of co-building projects: publishing, residents' ratings, held comments,
the public page and section, and the integrity monitor's page list."""

from __future__ import annotations

import datetime as dt
import threading
import time
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, connections, transaction
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from zhouxin.cobuild import matching, ratings, services
from zhouxin.cobuild.choices import ProjectStatus
from zhouxin.cobuild.models import Milestone, Project, Rating, ServiceRecord
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.moderation import lexicon
from zhouxin.moderation import services as moderation
from zhouxin.moderation.choices import ItemStatus
from zhouxin.moderation.models import ModerationItem
from zhouxin.moderation.services import seed_default_lexicon
from zhouxin.portal import services as portal
from zhouxin.portal import sms
from zhouxin.portal.tests.helpers import ask_signin_code, last_code, signed_in
from zhouxin.publishing.monitor import portal_pages

from .helpers import need, resource

PHONE, OTHER_PHONE = "13912345678", "13700001111"
SPAM = "真人百家乐，注册送彩金，提款秒到"


@pytest.fixture(autouse=True)
def _texts(settings):
    """Sign-in codes go to the in-memory outbox."""
    settings.SMS_BACKEND = "zhouxin.portal.sms.MemoryBackend"
    sms.outbox.clear()
    yield
    sms.outbox.clear()


def _project(personas, *, status=ProjectStatus.RUNNING, published=False, title="多福巷助老餐桌"):
    """A project of 多福巷社区 with 北京市东城区第一人民医院, started from a confirmed claim."""
    posted = need(personas, title=title)
    offered = resource(personas, title=title + "资源")
    with scopes_disabled():
        claim = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered, quantity=5)
        services.claim_confirm(actor=personas.street_hub, claim=claim)
        project = services.project_create_from_claim(actor=personas.street_hub, claim=claim,
                                                     starts_on=dt.date(2026, 7, 1))
        Project.objects.unscoped().filter(pk=project.pk).update(
            status=status, summary="每天中午为高龄独居老人送餐上门。",
            published_at=timezone.now() if published else None)
        project.refresh_from_db()
    return project


def _page(project) -> str:
    return reverse("cobuild_public:project", args=[project.pk])


def _rate_url(project) -> str:
    return reverse("cobuild_public:rate", args=[project.pk])


def _account(phone=PHONE):
    with scopes_disabled():
        return portal.signin(phone=phone, code=_code_for(phone), consent_version="2026-11")


def _code_for(phone) -> str:
    with TestCase.captureOnCommitCallbacks(execute=True):  # the text leaves after commit
        portal.signin_code_send(phone=phone)
    return last_code()


def _body(response) -> str:
    return response.content.decode()


# --- Publishing ----------------------------------------------------------------------------

def test_only_staff_of_the_area_publish_a_running_or_completed_project(personas):
    project = _project(personas, status=ProjectStatus.PLANNED)
    staff = personas.community_staff
    with pytest.raises(ValidationError) as planned:
        ratings.project_publish(actor=staff, project=project)
    assert "只有实施中或已完成的项目可以公开。" in planned.value.messages
    Project.objects.unscoped().filter(pk=project.pk).update(status=ProjectStatus.RUNNING)
    for outsider in ("community_staff_b", "unit_liaison", "district_admin", "outsider"):
        with pytest.raises(PermissionDenied):
            ratings.project_publish(actor=personas.users[outsider], project=project)
    assert Project.objects.unscoped().get(pk=project.pk).published_at is None

    published = ratings.project_publish(actor=staff, project=project)
    assert published.published_at is not None
    assert AuditEntry.objects.filter(action="cobuild.project.published", object_id=str(project.pk),
                                     actor_id=staff.pk).exists()
    with pytest.raises(ValidationError) as twice:
        ratings.project_publish(actor=personas.street_hub, project=project)
    assert "该项目已经公开。" in twice.value.messages

    with pytest.raises(ValidationError):
        ratings.project_unpublish(actor=staff, project=project, reason="长" * 301)
    withdrawn = ratings.project_unpublish(actor=staff, project=project, reason="项目信息需要更正")
    assert withdrawn.published_at is None
    assert AuditEntry.objects.filter(action="cobuild.project.unpublished", object_id=str(project.pk)).exists()
    with pytest.raises(ValidationError) as again:
        ratings.project_unpublish(actor=staff, project=project)
    assert "该项目尚未公开。" in again.value.messages

    Project.objects.unscoped().filter(pk=project.pk).update(status=ProjectStatus.CANCELLED)
    with pytest.raises(ValidationError):
        ratings.project_publish(actor=staff, project=project)
    Project.objects.unscoped().filter(pk=project.pk).update(status=ProjectStatus.COMPLETED)
    assert ratings.project_publish(actor=staff, project=project).published_at is not None


def test_staff_publish_and_withdraw_from_the_project_page(personas, client_for):
    project = _project(personas)
    staff = client_for("community_staff")
    detail = reverse("cobuild:project_detail", args=[project.pk])
    page = _body(staff.get(detail))
    assert "尚未公开" in page and reverse("cobuild:project_publish", args=[project.pk]) in page
    response = staff.post(reverse("cobuild:project_publish", args=[project.pk]), follow=True)
    page = _body(response)
    assert "项目已在居民服务网站公开" in page and _page(project) in page and "撤回公开" in page
    assert Client().get(_page(project)).status_code == 200
    # The unit sees the panel but no buttons: publishing is the community's decision.
    liaison_page = _body(client_for("unit_liaison").get(detail))
    assert "公开与居民评价" in liaison_page and "撤回公开" not in liaison_page
    response = staff.post(reverse("cobuild:project_unpublish", args=[project.pk]), {"reason": "更正信息"},
                          follow=True)
    assert "项目已撤回公开" in _body(response)
    assert Client().get(_page(project)).status_code == 404


# --- The public page -------------------------------------------------------------------------

def test_public_page_shows_the_project_without_personal_data(personas):
    project = _project(personas, published=True)
    with scopes_disabled():
        ServiceRecord.objects.create(project=project, held_on=dt.date(2026, 7, 2), title="首次送餐",
                                     beneficiaries=30, volunteers=4, volunteer_hours=Decimal("6.5"),
                                     created_by=personas.community_staff)
        ServiceRecord.objects.create(project=project, held_on=dt.date(2026, 7, 3), title="第二次送餐",
                                     beneficiaries=28, volunteers=3, volunteer_hours=Decimal("4.0"),
                                     created_by=personas.community_staff)
        Milestone.objects.create(project=project, title="签订共建协议", due_on=dt.date(2026, 7, 1),
                                 done_on=dt.date(2026, 6, 28))
    ratings.rate(account=_account(), project=project, stars=4, comment="送餐很准时，老人很满意")
    page = _body(Client().get(_page(project)))
    assert "多福巷助老餐桌" in page and "多福巷社区" in page and "东华门街道" in page
    assert "北京市东城区第一人民医院" in page and "每天中午为高龄独居老人送餐上门。" in page
    assert "签订共建协议" in page and "实施中" in page
    assert ">58<" in page and ">10.5<" in page  # 受益人次 and 志愿服务时长, summed from the records
    assert "4.0 / 5" in page and "送餐很准时，老人很满意" in page and "居民" in page
    assert PHONE not in page and PHONE[-4:] not in page
    # Not signed in: a link to sign in that comes back here, no form.
    assert f"{reverse('portal:signin')}?next=%2Fportal%2Fprojects%2F{project.pk}%2F" in page
    assert _rate_url(project) not in page


@pytest.mark.parametrize("status, published", [
    (ProjectStatus.RUNNING, False),
    (ProjectStatus.PLANNED, True),
    (ProjectStatus.CANCELLED, True),
])
def test_unpublished_planned_or_cancelled_projects_are_not_found(personas, status, published):
    project = _project(personas, status=status, published=published)
    response = Client().get(_page(project))
    assert response.status_code == 404 and "多福巷助老餐桌" not in _body(response)
    client = signed_in(PHONE)
    assert client.post(_rate_url(project), {"stars": "5"}).status_code == 404
    assert not Rating.objects.exists()
    assert Client().get(reverse("cobuild_public:project", args=[project.pk + 1000])).status_code == 404


def test_community_page_lists_published_projects_with_their_rating(personas):
    shown = _project(personas, published=True, title="多福巷助老餐桌")
    hidden = _project(personas, published=False, title="多福巷义诊进社区")
    ratings.rate(account=_account(), project=shown, stars=5)
    page = _body(Client().get(reverse("portal:community", args=[personas.areas["community_a"].code])))
    assert "共建项目" in page and _page(shown) in page and "居民评价 5.0 分（1 人）" in page
    assert "多福巷义诊进社区" not in page and _page(hidden) not in page
    other = _body(Client().get(reverse("portal:community", args=[personas.areas["community_b"].code])))
    assert "多福巷助老餐桌" not in other


def test_integrity_monitor_watches_published_project_pages(personas):
    shown = _project(personas, published=True, title="多福巷助老餐桌")
    hidden = _project(personas, published=False, title="多福巷义诊进社区")
    pages = portal_pages()
    assert pages[_page(shown)] == "多福巷助老餐桌"
    assert _page(hidden) not in pages
    assert reverse("portal:community", args=[personas.areas["community_a"].code]) in pages
    ratings.project_unpublish(actor=personas.community_staff, project=shown)
    assert _page(shown) not in portal_pages()


# --- Rating through the portal ---------------------------------------------------------------

def test_resident_signs_in_from_the_project_page_rates_and_changes_the_rating(personas):
    project = _project(personas, published=True)
    page = _body(Client().get(_page(project)))
    assert "手机号登录后评价" in page
    # The sign-in link brings the resident back to the project.
    client = Client()
    client.get(f"{reverse('portal:signin')}?next={_page(project)}")
    assert ask_signin_code(client, PHONE).status_code == 302
    response = client.post(reverse("portal:signin_code"), {"code": last_code()})
    assert response.status_code == 302 and response.url == _page(project)
    form = _body(client.get(_page(project)))
    assert 'type="radio" name="stars" value="5"' in form and "<legend" in form and "提交评价" in form

    response = client.post(_rate_url(project), {"stars": "4", "comment": "送餐很准时"})
    assert response.status_code == 302 and response.url.startswith(_page(project))
    page = _body(client.get(_page(project)))
    assert "您已评价 4 星" in page and "送餐很准时" in page and "修改评价" in page
    project.refresh_from_db()
    assert (project.rating_average, project.rating_count) == (Decimal("4.00"), 1)

    other = signed_in(OTHER_PHONE)
    assert other.post(_rate_url(project), {"stars": "5", "comment": ""}).status_code == 302
    project.refresh_from_db()
    assert (project.rating_average, project.rating_count) == (Decimal("4.50"), 2)

    # A second rating by the same resident replaces the first.
    assert client.post(_rate_url(project), {"stars": "2", "comment": "最近两次送晚了"}).status_code == 302
    project.refresh_from_db()
    assert (project.rating_average, project.rating_count) == (Decimal("3.50"), 2)
    assert Rating.objects.filter(project=project).count() == 2
    page = _body(Client().get(_page(project)))
    assert "最近两次送晚了" in page and "送餐很准时" not in page and "3.5 / 5" in page
    assert AuditEntry.objects.filter(action="cobuild.rating.updated").count() == 1
    assert AuditEntry.objects.filter(action="cobuild.rating.created").count() == 2


def test_bad_ratings_are_refused_with_chinese_messages_and_change_nothing(personas):
    project = _project(personas, published=True)
    client = signed_in(PHONE)
    response = client.post(_rate_url(project), {"stars": "6", "comment": "好"})
    assert response.status_code == 422 and "请选择 1 到 5 星。" in _body(response)
    response = client.post(_rate_url(project), {"comment": "好"})
    assert response.status_code == 422 and "请选择评分。" in _body(response)
    response = client.post(_rate_url(project), {"stars": "5", "comment": "好" * 301})
    assert response.status_code == 422 and "评价不能超过 300 个字。" in _body(response)
    assert not Rating.objects.exists()
    account = _account(OTHER_PHONE)
    for stars in (0, 6, "", None, "4.5", True):
        with pytest.raises(ValidationError) as refused:
            ratings.rate(account=account, project=project, stars=stars)
        assert "请选择 1 到 5 星。" in refused.value.messages
    with pytest.raises(ValidationError) as long:
        ratings.rate(account=account, project=project, stars=3, comment="长" * 301)
    assert "评价不能超过 300 个字。" in long.value.messages
    with pytest.raises(PermissionDenied):
        ratings.rate(account=personas.community_staff, project=project, stars=3)
    ratings.project_unpublish(actor=personas.community_staff, project=project)
    with pytest.raises(ValidationError) as closed:
        ratings.rate(account=account, project=project, stars=3)
    assert "该项目未公开或已结束公开，不能评价。" in closed.value.messages
    project.refresh_from_db()
    assert not Rating.objects.exists() and project.rating_count == 0 and project.rating_average is None


def test_unit_record_in_matching_follows_the_ratings(personas, django_capture_on_commit_callbacks):
    project = _project(personas, published=True)
    unit = personas.orgs["unit"].pk
    assert unit not in matching.unit_records()  # cached: nothing rated yet
    with django_capture_on_commit_callbacks(execute=True):
        ratings.rate(account=_account(), project=project, stars=5)
    assert matching.unit_records()[unit] == pytest.approx(1.0)


def test_deleting_a_residents_account_recounts_the_projects_ratings(personas):
    project = _project(personas, published=True)
    leaving = _account(PHONE)
    ratings.rate(account=leaving, project=project, stars=1, comment="送餐总是迟到")
    ratings.rate(account=_account(OTHER_PHONE), project=project, stars=5, comment="很好")
    # The resident's export carries their own rating, not the other one.
    with scopes_disabled():
        exported = portal.account_export(account=leaving)["project_ratings"]
    assert [(r["project"], r["stars"], r["comment"]) for r in exported] == [("多福巷助老餐桌", 1, "送餐总是迟到")]
    project.refresh_from_db()
    assert (project.rating_average, project.rating_count) == (Decimal("3.00"), 2)
    with scopes_disabled():
        portal.account_delete(account=leaving)
    project.refresh_from_db()
    assert (project.rating_average, project.rating_count) == (Decimal("5.00"), 1)


# --- Held comments ---------------------------------------------------------------------------

@pytest.fixture
def seeded(db):
    with scopes_disabled():
        seed_default_lexicon()
    lexicon.reset_cache()


def test_spam_comment_is_held_reviewed_in_the_queue_and_shown_once_released(personas, seeded, client_for):
    project = _project(personas, published=True)
    client = signed_in(PHONE)
    assert client.post(_rate_url(project), {"stars": "5", "comment": SPAM}).status_code == 302
    rating = Rating.objects.get()
    assert rating.comment_visible is False and rating.stars == 5
    project.refresh_from_db()
    assert project.rating_count == 1  # the stars count at once; only the text waits
    assert SPAM not in _body(Client().get(_page(project)))
    assert "您的评价内容正在审核" in _body(client.get(_page(project)))
    staff_page = _body(client_for("community_staff").get(reverse("cobuild:project_detail", args=[project.pk])))
    assert "待审核" in staff_page

    hub = client_for("street_hub")
    queue = _body(hub.get(reverse("moderation:queue") + "?source=cobuild-ratings"))
    item = ModerationItem.objects.unscoped().get(source_key=f"cobuild.rating:{rating.pk}")
    assert "共建项目评价" in queue and "真人百家乐" in queue and "命中违规词（赌博）" in queue
    assert f'data-zx-held="cobuild-ratings-{item.pk}"' in queue
    generic = _body(hub.get(reverse("moderation:queue") + "?source=items"))
    assert f"items-{item.pk}" not in generic  # listed once, under its own tab
    # Reviewers of another street do not see it.
    assert SPAM not in _body(client_for("outsider").get(reverse("moderation:queue")))

    url = reverse("moderation:decide", args=["cobuild-ratings", item.pk, "release"])
    assert hub.post(url, {"note": "经核实为正常评价"}).status_code == 302
    rating.refresh_from_db()
    item.refresh_from_db()
    assert rating.comment_visible is True and item.status == ItemStatus.RELEASED
    assert SPAM in _body(Client().get(_page(project)))
    assert AuditEntry.objects.filter(action="cobuild.rating.comment_released", object_id=str(rating.pk),
                                     actor_id=personas.street_hub.pk).exists()
    # Changing only the stars keeps the released comment visible.
    assert client.post(_rate_url(project), {"stars": "4", "comment": SPAM}).status_code == 302
    rating.refresh_from_db()
    assert rating.comment_visible is True and rating.stars == 4


def test_rejected_comment_is_removed_and_the_stars_stay(personas, seeded, client_for):
    project = _project(personas, published=True)
    with scopes_disabled():  # as the demo loader does; a resident's request runs in the portal's scope
        rating = ratings.rate(account=_account(), project=project, stars=3, comment=SPAM)
    item = ModerationItem.objects.unscoped().get(source_key=f"cobuild.rating:{rating.pk}")
    url = reverse("moderation:decide", args=["cobuild-ratings", item.pk, "reject"])
    assert client_for("district_admin").post(url, {"note": "赌博广告"}).status_code == 302
    rating.refresh_from_db()
    project.refresh_from_db()
    assert rating.comment == "" and rating.stars == 3 and project.rating_count == 1
    assert SPAM not in _body(Client().get(_page(project)))
    assert AuditEntry.objects.filter(action="cobuild.rating.comment_removed", object_id=str(rating.pk)).exists()


def test_a_decision_on_a_replaced_comment_changes_nothing(personas, seeded):
    project = _project(personas, published=True)
    account = _account()
    with scopes_disabled():
        rating = ratings.rate(account=account, project=project, stars=3, comment=SPAM)
        ratings.rate(account=account, project=project, stars=3, comment="送餐很准时")
    rating.refresh_from_db()
    assert rating.comment_visible is True
    item = ModerationItem.objects.unscoped().get(source_key=f"cobuild.rating:{rating.pk}")
    with scopes_disabled():
        moderation.item_reject(actor=personas.street_hub, item=item, reason="赌博广告")
    rating.refresh_from_db()
    assert rating.comment == "送餐很准时" and rating.comment_visible is True


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SQLite serialises writers with its database lock (IMMEDIATE transactions), so two "
                           "ratings cannot overlap there; the race is only meaningful on PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_residents_rating_at_once_are_both_counted(personas):
    project = _project(personas, published=True)
    accounts = [_account(PHONE), _account(OTHER_PHONE)]
    barrier = threading.Barrier(len(accounts))
    failures: list[str] = []

    def rate(account, stars):
        try:
            with scopes_disabled(), transaction.atomic():
                barrier.wait(timeout=10)  # both transactions are open before either rates
                ratings.rate(account=account, project=project, stars=stars)
                time.sleep(0.3)  # the other rating runs while this one is not yet committed
        except Exception as exc:  # noqa: BLE001  (reported below)
            failures.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=rate, args=(account, stars)) for account, stars in zip(accounts, (2, 5), strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures
    project.refresh_from_db()
    assert (project.rating_average, project.rating_count) == (Decimal("3.50"), 2)
