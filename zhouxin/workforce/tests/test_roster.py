"""The street keeps the roster: register, correct, posts, leave — through the services and the pages."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.workforce import roster
from zhouxin.workforce.choices import WorkerStatus
from zhouxin.workforce.models import PostHolding, Worker

from .roster_helpers import hire


def _body(response) -> str:
    return response.content.decode()


def test_register_a_new_person_as_worker_through_the_page(personas, client_for):
    hub = client_for("street_hub")
    response = hub.post(reverse("workforce:worker_create"), {
        "community": personas.areas["community_a"].pk, "name": "王晓燕", "phone": "13912345678",
        "hire_date": "2019-05-06", "education": "本科", "has_diploma": "on", "has_degree": "on",
        "certificate": "社会工作师", "early_promotions_used": "0", "training_hours": "0"}, follow=True)
    page = _body(response)
    assert "已登记社区工作者王晓燕。" in page and "139****5678" in page and "13912345678" not in page
    with scopes_disabled():
        worker = Worker.objects.unscoped().get(person__name="王晓燕")
        assert worker.person.home_area == personas.areas["community_a"]
        assert AuditEntry.objects.filter(action="workforce.worker.created").count() == 1
    # A post, then the grade shows with its explanation.
    response = hub.post(reverse("workforce:post_add", args=[worker.pk]), {
        "post_type": "副职", "title": "副主任", "started_on": "2019-05-06"}, follow=True)
    page = _body(response)
    assert "已登记任职。" in page and "副主任" in page and "计酬岗位：副主任" in page


def test_an_existing_person_is_registered_once(personas):
    resident = personas.people["resident_a"]
    with scopes_disabled():
        roster.worker_create(actor=personas.street_hub, community=personas.areas["community_a"],
                             hire_date=dt.date(2020, 1, 1), person=resident)
        with pytest.raises(ValidationError) as err:
            roster.worker_create(actor=personas.street_hub, community=personas.areas["community_a"],
                                 hire_date=dt.date(2020, 1, 1), person=resident)
    assert "已登记为社区工作者" in str(err.value)


def test_bad_input_changes_nothing(personas):
    with scopes_disabled():
        people = Person.objects.unscoped().count()
        with pytest.raises(ValidationError) as err:
            roster.worker_create(actor=personas.street_hub, community=personas.areas["community_a"],
                                 hire_date=dt.date(2020, 1, 1), name="赵六", phone="123", entry_grade=30)
        assert Person.objects.unscoped().count() == people and not Worker.objects.unscoped().exists()
    messages = " ".join(err.value.messages)
    assert "入职定级应为 1 到 18 级。" in messages
    with scopes_disabled(), pytest.raises(PermissionDenied):  # another street's community
        roster.worker_create(actor=personas.street_hub, community=personas.areas["community_b"],
                             hire_date=dt.date(2020, 1, 1), name="赵六")


def test_posts_dates_are_ordered(personas):
    worker = hire(personas, "钱七", hired=dt.date(2020, 3, 1))
    with scopes_disabled():
        with pytest.raises(ValidationError) as err:
            roster.post_add(actor=personas.street_hub, worker=worker, post_type="正职", title="主任",
                            started_on=dt.date(2021, 1, 1), ended_on=dt.date(2020, 12, 31))
        assert "免职日期不能早于任职日期。" in err.value.messages
        with pytest.raises(ValidationError):
            roster.post_add(actor=personas.street_hub, worker=worker, post_type="正职", title="主任",
                            started_on=dt.date(2019, 1, 1))
        with pytest.raises(ValidationError):
            roster.post_add(actor=personas.street_hub, worker=worker, post_type="岗位", title="主任",
                            started_on=dt.date(2021, 1, 1))
        assert PostHolding.objects.unscoped().filter(worker=worker).count() == 1


def test_edit_and_leave_through_the_pages(personas, client_for):
    worker = hire(personas, "孙八")
    hub = client_for("street_hub")
    response = hub.post(reverse("workforce:worker_edit", args=[worker.pk]), {
        "community": personas.areas["community_a2"].pk, "hire_date": "2020-03-01", "education": "硕士",
        "has_diploma": "on", "certificate": "", "early_promotions_used": "1", "training_hours": "12.5"},
        follow=True)
    assert "已保存。" in _body(response) and "银闸社区" in _body(response)
    with scopes_disabled():
        worker.refresh_from_db()
    assert worker.education == "硕士" and not worker.has_degree and worker.early_promotions_used == 1
    response = hub.post(reverse("workforce:worker_leave", args=[worker.pk]), {"day": "2025-06-30"}, follow=True)
    assert "已办理离岗。" in _body(response) and "2025-06-30 离岗" in _body(response)
    with scopes_disabled():
        worker.refresh_from_db()
        post = PostHolding.objects.unscoped().get(worker=worker)
    assert worker.status == WorkerStatus.LEFT and post.ended_on == dt.date(2025, 6, 30)
    # Leaving twice is refused with a message.
    response = hub.post(reverse("workforce:worker_leave", args=[worker.pk]), {"day": "2025-07-01"}, follow=True)
    assert "该工作者已离岗。" in _body(response)


def test_end_a_post(personas, client_for):
    worker = hire(personas, "周九")
    with scopes_disabled():
        post = PostHolding.objects.unscoped().get(worker=worker)
    hub = client_for("street_hub")
    response = hub.post(reverse("workforce:post_end", args=[worker.pk, post.pk]), {"day": "2019-01-01"}, follow=True)
    assert "免职日期不能早于任职日期。" in _body(response)
    response = hub.post(reverse("workforce:post_end", args=[worker.pk, post.pk]), {"day": "2024-12-31"}, follow=True)
    assert "已免职。" in _body(response)
    with scopes_disabled():
        post.refresh_from_db()
    assert post.ended_on == dt.date(2024, 12, 31)


def test_a_community_sees_only_its_own_workers(personas, client_for):
    own = hire(personas, "多福巷工作者")
    other = hire(personas, "吉祥工作者", area="community_b")
    neighbour = hire(personas, "银闸工作者", area="community_a2")
    staff = client_for("community_staff")
    page = _body(staff.get(reverse("workforce:roster_list")))
    assert "多福巷工作者" in page and "吉祥工作者" not in page and "银闸工作者" not in page
    assert "登记社区工作者" not in page  # community staff read only
    assert staff.get(reverse("workforce:worker_detail", args=[own.pk])).status_code == 200
    assert staff.get(reverse("workforce:worker_detail", args=[other.pk])).status_code == 404
    assert staff.get(reverse("workforce:worker_detail", args=[neighbour.pk])).status_code == 404
    hub_page = _body(client_for("street_hub").get(reverse("workforce:roster_list")))
    assert "多福巷工作者" in hub_page and "银闸工作者" in hub_page and "吉祥工作者" not in hub_page


def test_roster_filters_and_grades_in_bounded_queries(personas, client_for, django_assert_max_num_queries):
    for i in range(6):
        hire(personas, f"网格员{i}")
    hire(personas, "多福巷书记", post=("正职", "书记"))
    hub = client_for("street_hub")
    url = reverse("workforce:roster_list")
    page = _body(hub.get(f"{url}?post_type=正职"))
    assert "多福巷书记" in page and "网格员0" not in page and "级" in page
    hub.get(url)  # warm the session and policy caches
    with django_assert_max_num_queries(20):
        page = _body(hub.get(url))
    assert all(f"网格员{i}" in page for i in range(6))
