import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from zhouxin.cobuild import services
from zhouxin.cobuild.choices import ClaimDirection, ClaimStatus, NeedCategory, NeedStatus, ServiceRadius
from zhouxin.cobuild.models import Claim, Need, Project, Resource
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import ScopeError, scopes_disabled

from .helpers import need, resource, unit_with_liaison


def test_posting_a_need_is_audited_and_segmented(personas):
    posted = need(personas, quantity=30, quantity_unit="份", beneficiaries="高龄独居老人")
    assert posted.status == NeedStatus.OPEN and posted.source == "posted"
    assert "助餐" in posted.terms.split() and "社区" not in posted.terms.split()
    entry = AuditEntry.objects.get(action="cobuild.need.created", object_id=str(posted.pk))
    assert entry.after["title"] == "为社区高龄独居老人提供午餐配送"


def test_bad_need_says_what_is_wrong_and_writes_nothing(personas):
    with pytest.raises(ValidationError) as exc:
        need(personas, title=" ", category="nonsense", wanted_from=__import__("datetime").date(2026, 5, 2),
             wanted_until=__import__("datetime").date(2026, 5, 1))
    assert exc.value.message_dict == {"title": ["请填写需求名称。"], "category": ["请选择需求类别。"],
                                      "wanted_until": ["结束日期不能早于开始日期。"]}
    with scopes_disabled():
        assert not Need.objects.exists()


def test_needs_are_posted_only_for_ones_own_area(personas):
    with pytest.raises(PermissionDenied):
        need(personas, area="community_b")  # 张丽华 works in 多福巷, not 吉祥
    with pytest.raises(PermissionDenied):
        need(personas, actor="unit_liaison")
    assert need(personas, area="street_a", actor="street_hub").area == personas.areas["street_a"]


def test_needs_are_scoped(personas):
    need(personas)
    with pytest.raises(ScopeError):
        list(Need.objects.all())
    assert Need.objects.restrict(personas.outsider).count() == 0
    assert Need.objects.restrict(personas.street_hub).count() == 1


def test_only_the_units_liaison_registers_its_resources(personas):
    made = resource(personas)
    assert made.area_code == personas.areas["community_a"].code and made.available == 40
    assert AuditEntry.objects.filter(action="cobuild.resource.created", object_id=str(made.pk)).exists()
    other_unit, _ = unit_with_liaison(personas, "东城区图书馆", "community_b", "liaison_b")
    with pytest.raises(PermissionDenied):
        resource(personas, owner=other_unit)  # 孙雅琴 is the hospital's liaison, not the library's
    with pytest.raises(PermissionDenied):
        resource(personas, actor=personas.community_staff)


def test_bad_resource_writes_nothing(personas):
    with pytest.raises(ValidationError) as exc:
        resource(personas, capacity=0, capacity_unit="", area=personas.areas["community_x"])
    errors = exc.value.message_dict
    assert errors["capacity"] == ["可提供数量必须大于 0。"]
    assert errors["capacity_unit"] == ["请填写数量单位（如：人次、平方米、份）。"]
    assert errors["area"] == ["资源所在区域须是本单位所在区内的街道或社区。"]
    with scopes_disabled():
        assert not Resource.objects.exists()


def test_a_unit_claims_a_need_and_the_street_confirms(personas):
    posted = need(personas, quantity=30, quantity_unit="份")
    offered = resource(personas)
    claim = services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered, note="每天中午送到")
    posted.refresh_from_db()
    assert claim.direction == ClaimDirection.OFFER and claim.quantity == 30 and posted.status == NeedStatus.CLAIMED
    # The unit cannot confirm its own offer; community staff of another street cannot either.
    for actor in (personas.unit_liaison, personas.community_staff_b):
        with pytest.raises(PermissionDenied):
            services.claim_confirm(actor=actor, claim=claim)
    services.claim_confirm(actor=personas.street_hub, claim=claim)
    claim.refresh_from_db()
    offered.refresh_from_db()
    posted.refresh_from_db()
    assert claim.status == ClaimStatus.CONFIRMED and claim.decided_by == personas.street_hub
    assert offered.committed == 30 and offered.available == 10
    assert posted.status == NeedStatus.CONFIRMED
    with pytest.raises(ValidationError, match="已经处理过"):
        services.claim_confirm(actor=personas.street_hub, claim=claim)
    project = services.project_create_from_claim(actor=personas.community_staff, claim=claim, budget="12000.50")
    posted.refresh_from_db()
    assert posted.status == NeedStatus.IN_PROJECT and str(project.budget) == "12000.50"
    with scopes_disabled():
        parties = set(project.parties.all())
    assert parties == {personas.orgs["unit"], personas.orgs["community_a_committee"]}
    with pytest.raises(ValidationError, match="已经立项"):
        services.project_create_from_claim(actor=personas.community_staff, claim=claim)
    assert Project.objects.restrict(personas.unit_liaison).count() == 1
    assert Project.objects.restrict(personas.outsider).count() == 0


def test_a_taken_need_cannot_be_claimed_again_and_a_decline_reopens_it(personas):
    posted = need(personas)
    other_unit, other_liaison = unit_with_liaison(personas, "东城区图书馆", "community_a2", "liaison_b")
    first = services.claim_create(actor=personas.unit_liaison, need=posted, resource=resource(personas))
    second_resource = resource(personas, owner=other_unit, actor=other_liaison)
    with pytest.raises(ValidationError, match="已被其他单位认领"):
        services.claim_create(actor=other_liaison, need=posted, resource=second_resource)
    with pytest.raises(ValidationError) as exc:
        services.claim_decline(actor=personas.community_staff, claim=first, note="")
    assert exc.value.message_dict == {"note": ["请填写未通过的原因。"]}
    services.claim_decline(actor=personas.community_staff, claim=first, note="时间对不上")
    posted.refresh_from_db()
    assert posted.status == NeedStatus.OPEN
    services.claim_create(actor=other_liaison, need=posted, resource=second_resource)
    assert Claim.objects.restrict(other_liaison).count() == 1  # not the hospital's declined claim
    assert Claim.objects.restrict(personas.unit_liaison).count() == 1


def test_the_database_refuses_a_second_live_claim(personas):
    posted = need(personas)
    offered = resource(personas)
    services.claim_create(actor=personas.unit_liaison, need=posted, resource=offered)
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.unscoped().create(need=posted, resource=offered, unit=offered.owner, direction="offer",
                                        quantity=1, created_by=personas.unit_liaison)


def test_a_community_asks_a_unit_and_the_unit_accepts(personas):
    posted = need(personas)
    offered = resource(personas)
    claim = services.claim_create(actor=personas.community_staff, need=posted, resource=offered, quantity=5)
    assert claim.direction == ClaimDirection.REQUEST
    with pytest.raises(PermissionDenied):  # the asking side does not accept its own request
        services.claim_confirm(actor=personas.community_staff, claim=claim)
    services.claim_confirm(actor=personas.unit_liaison, claim=claim)
    offered.refresh_from_db()
    assert offered.committed == 5


def test_claims_beyond_capacity_or_radius_are_refused(personas):
    posted = need(personas)
    small = resource(personas, capacity=3)
    with pytest.raises(ValidationError) as exc:
        services.claim_create(actor=personas.unit_liaison, need=posted, resource=small, quantity=4)
    assert exc.value.message_dict == {"quantity": ["资源余量不足：还可提供 3 份。"]}
    far_need = need(personas, area="community_b", actor="community_staff_b")
    local = resource(personas, radius=ServiceRadius.COMMUNITY)
    with pytest.raises(ValidationError, match="服务范围不包括"):
        services.claim_create(actor=personas.unit_liaison, need=far_need, resource=local)
    far_need.refresh_from_db()
    assert far_need.status == NeedStatus.OPEN


def test_closing_and_meeting_needs(personas):
    posted = need(personas, category=NeedCategory.CULTURE, title="社区合唱队排练场地")
    with pytest.raises(ValidationError):
        services.need_close(actor=personas.community_staff, need=posted, met=True)
    services.need_close(actor=personas.community_staff, need=posted, met=False, note="已自行解决")
    posted.refresh_from_db()
    assert posted.status == NeedStatus.CLOSED
    assert AuditEntry.objects.filter(action="cobuild.need.closed", object_id=str(posted.pk)).exists()
