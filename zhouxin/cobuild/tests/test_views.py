import re

from django.urls import reverse

from zhouxin.cobuild.choices import ClaimStatus, NeedSource, NeedStatus
from zhouxin.cobuild.models import Claim, Need, Project, Resource
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services as dispatch_services

from .helpers import need, resource, unit_with_liaison


def _body(response) -> str:
    return response.content.decode()


def test_post_claim_confirm_and_start_a_project_through_the_pages(personas, client_for):
    staff = client_for("community_staff")
    response = staff.post(reverse("cobuild:need_create"), {
        "area": personas.areas["community_a"].pk, "title": "高龄老人午间助餐", "category": "elderly_meal",
        "description": "为80岁以上独居老人提供午餐，每天30份。", "quantity": "30", "quantity_unit": "份"})
    assert response.status_code == 302
    with scopes_disabled():
        posted = Need.objects.get(title="高龄老人午间助餐")
    liaison = client_for("unit_liaison")
    liaison.post(reverse("cobuild:resource_create"), {
        "owner": personas.orgs["unit"].pk, "title": "医院职工食堂助老餐", "kind": "goods", "category": "elderly_meal",
        "description": "职工食堂中午可为社区老人提供午餐。", "capacity": "50", "capacity_unit": "份",
        "available_from": "2026-01-01", "radius": "street"})
    with scopes_disabled():
        canteen = Resource.objects.get(title="医院职工食堂助老餐")
    # The liaison finds the need under "matches for my resources", with its score explained.
    page = _body(liaison.get(reverse("cobuild:my_matches")))
    assert "高龄老人午间助餐" in page and "距离远近" in page and "已占用容量" in page
    detail = _body(liaison.get(reverse("cobuild:need_detail", args=[posted.pk])))
    assert "本单位可认领的资源" in detail and "医院职工食堂助老餐" in detail
    response = liaison.post(reverse("cobuild:claim_create", args=[posted.pk]),
                            {"resource": canteen.pk, "quantity": "30", "note": "每天11点半送到"}, follow=True)
    assert "已认领，等待对方确认。" in _body(response)
    with scopes_disabled():
        claim = Claim.objects.get(need=posted)
    # The unit sees no confirm button for its own offer; the street does.
    assert reverse("cobuild:claim_confirm", args=[claim.pk]) not in _body(response)
    hub = client_for("street_hub")
    page = _body(hub.get(reverse("cobuild:need_detail", args=[posted.pk])))
    assert "确认认领" in page
    response = hub.post(reverse("cobuild:claim_confirm", args=[claim.pk]), follow=True)
    assert "认领已确认。" in _body(response) and "创建共建项目" in _body(response)
    response = hub.post(reverse("cobuild:project_create", args=[claim.pk]),
                        {"title": "多福巷助老餐桌", "budget": "8000", "starts_on": "2026-07-01"}, follow=True)
    page = _body(response)
    assert "共建项目已创建。" in page and "北京市东城区第一人民医院" in page and "中共多福巷社区委员会" in page
    with scopes_disabled():
        assert Project.objects.get().need == posted
    posted.refresh_from_db()
    canteen.refresh_from_db()
    assert posted.status == NeedStatus.IN_PROJECT and canteen.committed == 30
    assert "多福巷助老餐桌" in _body(liaison.get(reverse("cobuild:project_list")))


def test_bad_need_form_answers_in_chinese_and_saves_nothing(personas, client_for):
    response = client_for("community_staff").post(reverse("cobuild:need_create"), {
        "area": personas.areas["community_a"].pk, "title": "", "category": "elderly_meal",
        "wanted_from": "2026-07-02", "wanted_until": "2026-07-01"})
    assert response.status_code == 422
    page = _body(response)
    assert "请填写需求名称。" in page
    response = client_for("community_staff").post(reverse("cobuild:need_create"), {
        "area": personas.areas["community_b"].pk, "title": "越权", "category": "elderly_meal"})
    assert response.status_code == 422 and "请选择您管辖范围内的社区或街道。" in _body(response)
    with scopes_disabled():
        assert not Need.objects.exists()


def test_a_liaison_registers_resources_only_for_their_unit(personas, client_for):
    other, _ = unit_with_liaison(personas, "东城区图书馆", "community_a", "liaison_lib")
    response = client_for("unit_liaison").post(reverse("cobuild:resource_create"), {
        "owner": other.pk, "title": "阅览室", "kind": "venue", "category": "venue", "capacity": "1",
        "capacity_unit": "间", "available_from": "2026-01-01", "radius": "street"})
    assert response.status_code == 422 and "只能为您联络的单位登记资源。" in _body(response)
    with scopes_disabled():
        assert not Resource.objects.exists()


def test_decline_with_a_reason_reopens_the_need(personas, client_for):
    posted = need(personas)
    offered = resource(personas)
    client_for("unit_liaison").post(reverse("cobuild:claim_create", args=[posted.pk]), {"resource": offered.pk})
    with scopes_disabled():
        claim = Claim.objects.get()
    staff = client_for("community_staff")
    response = staff.post(reverse("cobuild:claim_decline", args=[claim.pk]), {"note": ""}, follow=True)
    assert "请填写未通过的原因。" in _body(response)
    staff.post(reverse("cobuild:claim_decline", args=[claim.pk]), {"note": "本周已有其他安排"})
    claim.refresh_from_db()
    posted.refresh_from_db()
    assert claim.status == ClaimStatus.DECLINED and posted.status == NeedStatus.OPEN


def test_frequent_request_categories_are_promoted_without_typing_twice(personas, dispatch_world, client_for):
    staff_user = personas.community_staff
    categories = dispatch_world.categories
    with scopes_disabled():
        for i in range(3):
            dispatch_services.request_intake(
                actor=staff_user, kind="complaint", channel="hotline", area=personas.areas["community_a"],
                title=f"楼道堆物{i}", description="楼道堆放杂物影响通行", category=categories["040102"])
        dispatch_services.request_intake(
            actor=staff_user, kind="complaint", channel="hotline", area=personas.areas["grid_a"],
            title="夜间施工", description="夜间施工噪音扰民", category=categories["080101"])
        dispatch_services.request_intake(
            actor=personas.community_staff_b, kind="complaint", channel="hotline",
            area=personas.areas["community_b"], title="吉祥社区停水", description="停水", category=categories["120101"])
    staff = client_for("community_staff")
    page = _body(staff.get(reverse("cobuild:promote")))
    rows = re.findall(r'<th scope="row" data-label="诉求类别">(.*?)</th>\s*<td data-label="诉求件数">(\d+)</td>', page)
    assert rows == [("物业管理 / 物业服务 / 楼道卫生", "3"), ("社会秩序 / 噪声扰民 / 施工噪声", "1")]  # not 吉祥's
    link = f"{reverse('cobuild:need_create')}?area={personas.areas['community_a'].pk}&promote={categories['040102'].pk}"
    form = _body(staff.get(link))
    assert "多福巷社区楼道卫生问题共建" in form and "近90天多福巷社区共收到3件" in form
    assert '<option value="environment" selected>' in form  # 楼道卫生 suggests 环境整治
    response = staff.post(link, {"area": personas.areas["community_a"].pk, "title": "多福巷社区楼道卫生问题共建",
                                 "category": "environment", "promote": categories["040102"].pk})
    assert response.status_code == 302
    with scopes_disabled():
        promoted = Need.objects.get()
    assert promoted.source == NeedSource.REQUESTS and promoted.source_ref == "040102"
    assert "已转为需求" in _body(staff.get(reverse("cobuild:promote")))
    # A category that is not frequent here cannot be promoted.
    bad = f"{reverse('cobuild:need_create')}?area={personas.areas['community_a'].pk}&promote={categories['120101'].pk}"
    response = staff.get(bad, follow=True)
    assert "不在该区域近90天的高频诉求中" in _body(response)


def test_need_list_queries_do_not_grow_with_rows(personas, client_for, django_assert_max_num_queries):
    staff = client_for("community_staff")
    need(personas)
    staff.get(reverse("cobuild:need_list"))
    for i in range(8):
        need(personas, title=f"需求{i}")
    with django_assert_max_num_queries(12):
        response = staff.get(reverse("cobuild:need_list"))
    assert _body(response).count("cobuild/needs/") >= 9
