"""The policy store: versions by effective date, city over national, typed and validated values, audit."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from zhouxin.core import policy
from zhouxin.core.models import AuditEntry, PolicyVersion

TODAY = timezone.localdate


@pytest.fixture
def demo_rule():
    """A rule with one item of every supported type, registered for the test only."""
    key = "test.sla"
    policy.register(
        key, label="测试规则",
        default={"days": 7, "weight": Decimal("0.5"), "ratio": 0.8, "strict": False, "name": "默认",
                 "kinds": ["咨询", "求助"], "hours": [2, 24]},
        validate=lambda v: (_ for _ in ()).throw(ValidationError("天数必须为正数。")) if v["days"] <= 0 else None,
        labels={"days": "办理天数"},
    )
    yield key
    policy._REGISTRY.pop(key, None)


@pytest.mark.django_db
def test_default_when_no_version():
    assert policy.get("core.password") == {"min_length": 10, "min_classes": 3, "history": 5, "max_age_days": 90}


@pytest.mark.django_db
def test_versions_take_effect_on_their_date(personas):
    today = TODAY()
    PolicyVersion.objects.create(key="core.password", effective_from=today - dt.timedelta(days=30),
                                 value={"min_length": 12})
    policy.policy_set(actor=personas.security_admin, key="core.password", value={"min_length": 14},
                      effective_from=today + dt.timedelta(days=10))
    assert policy.get("core.password", on=today - dt.timedelta(days=31))["min_length"] == 10
    assert policy.get("core.password")["min_length"] == 12
    assert policy.get("core.password", on=today + dt.timedelta(days=10))["min_length"] == 14
    assert policy.get("core.password", on=today + dt.timedelta(days=10))["min_classes"] == 3


@pytest.mark.django_db
def test_city_overrides_national_only_for_the_items_it_sets(personas, demo_rule):
    today = TODAY()
    city = personas.areas["city"]
    policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 5}, effective_from=today,
                      city=city)
    policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 9, "name": "全国"},
                      effective_from=today)
    assert policy.get(demo_rule)["days"] == 9
    in_city = policy.get(demo_rule, city=city)
    assert in_city["days"] == 5 and in_city["name"] == "全国"  # the city's item wins, the rest follows national
    assert policy.get(demo_rule, city=personas.areas["city"].pk)["days"] == 5


@pytest.mark.django_db
def test_types_round_trip(personas, demo_rule):
    policy.policy_set(actor=personas.district_admin, key=demo_rule, effective_from=TODAY(),
                      value={"weight": "0.75", "ratio": "0.9", "strict": True, "kinds": ["投诉"], "hours": ["4", 8]})
    value = policy.get(demo_rule)
    assert value["weight"] == Decimal("0.75") and isinstance(value["weight"], Decimal)
    assert value["ratio"] == 0.9 and value["strict"] is True
    assert value["kinds"] == ["投诉"] and value["hours"] == [4, 8]


@pytest.mark.django_db
@pytest.mark.parametrize("value, message", [
    ({"nonsense": 1}, "没有这些项"),
    ({"days": "seven"}, "办理天数：应为整数"),
    ({"days": True}, "应为整数"),
    ({"strict": "yes"}, "应为是或否"),
    ({"weight": "abc"}, "应为数字"),
    ({"hours": ["x"]}, "应为整数"),
    ({"kinds": "咨询"}, "应为列表"),
    ({"days": 0}, "天数必须为正数"),
    ({}, "至少需要一项"),
])
def test_bad_values_are_refused_and_change_nothing(personas, demo_rule, value, message):
    with pytest.raises(ValidationError, match=message):
        policy.policy_set(actor=personas.district_admin, key=demo_rule, value=value, effective_from=TODAY())
    assert not PolicyVersion.objects.exists()
    assert not AuditEntry.objects.filter(action="core.policy.set").exists()


@pytest.mark.django_db
def test_unknown_rule_past_date_and_non_city_area_are_refused(personas, demo_rule):
    with pytest.raises(ValidationError, match="没有名为"):
        policy.policy_set(actor=personas.district_admin, key="no.such.rule", value={"a": 1}, effective_from=TODAY())
    with pytest.raises(KeyError):
        policy.get("no.such.rule")
    with pytest.raises(ValidationError, match="不能早于今天"):
        policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 3},
                          effective_from=TODAY() - dt.timedelta(days=1))
    with pytest.raises(ValidationError, match="不是市级区域"):
        policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 3},
                          effective_from=TODAY(), city=personas.areas["dongcheng"])


@pytest.mark.django_db
def test_password_rule_is_the_security_admins_alone(personas, demo_rule):
    with pytest.raises(PermissionDenied):
        policy.policy_set(actor=personas.district_admin, key="core.password", value={"min_length": 12},
                          effective_from=TODAY())
    with pytest.raises(PermissionDenied):
        policy.policy_set(actor=personas.security_admin, key=demo_rule, value={"days": 3}, effective_from=TODAY())
    with pytest.raises(PermissionDenied):
        policy.policy_set(actor=personas.community_staff, key=demo_rule, value={"days": 3}, effective_from=TODAY())
    with pytest.raises(ValidationError, match="至少 8 位"):
        policy.policy_set(actor=personas.security_admin, key="core.password", value={"min_length": 6},
                          effective_from=TODAY())
    policy.policy_set(actor=personas.security_admin, key="core.password", value={"min_length": 12},
                      effective_from=TODAY())
    assert policy.get("core.password")["min_length"] == 12


@pytest.mark.django_db
def test_a_city_version_needs_a_grant_in_that_city(personas, demo_rule):
    from zhouxin.orgs.choices import AreaLevel
    from zhouxin.testing.personas import _area

    other_city = _area("1201", "天津市", AreaLevel.CITY)
    with pytest.raises(PermissionDenied):
        policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 3},
                          effective_from=TODAY(), city=other_city)
    assert list(policy.editable_cities(personas.district_admin, demo_rule)) == [personas.areas["city"]]


@pytest.mark.django_db
def test_every_version_is_audited_with_before_and_after(personas, demo_rule):
    day = TODAY() + dt.timedelta(days=3)
    policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 4}, effective_from=day,
                      note="区委文件")
    policy.policy_set(actor=personas.district_admin, key=demo_rule, value={"days": 6}, effective_from=day)
    assert PolicyVersion.objects.filter(key=demo_rule).count() == 1  # same date: replaced, not duplicated
    first, second = AuditEntry.objects.filter(action="core.policy.set").order_by("id")
    assert first.actor_id == personas.district_admin.pk
    assert first.before == {"in_force": {"days": 7, "weight": "0.5", "ratio": 0.8, "strict": False, "name": "默认",
                                         "kinds": ["咨询", "求助"], "hours": [2, 24]}}
    assert first.after["value"] == {"days": 4} and first.after["note"] == "区委文件"
    assert second.before["value"] == {"days": 4} and second.after["replaced"] is True


# --- pages ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_policy_list_shows_rules_values_and_history(personas, client_for, demo_rule):
    PolicyVersion.objects.create(key=demo_rule, effective_from=TODAY() - dt.timedelta(days=5), value={"days": 3},
                                 note="旧文件")
    body = client_for("district_admin").get(reverse("core:policy_list")).content.decode()
    assert "测试规则" in body and "密码策略" in body and "节假日日历" in body
    assert "办理天数" in body and "旧文件" in body and "生效中" in body
    assert reverse("core:policy_edit", args=[demo_rule]) in body
    assert reverse("core:policy_edit", args=["core.password"]) not in body  # not the district admin's
    body = client_for("security_admin").get(reverse("core:policy_list")).content.decode()
    assert reverse("core:policy_edit", args=["core.password"]) in body
    assert reverse("core:policy_edit", args=[demo_rule]) not in body


@pytest.mark.django_db
def test_policy_edit_form_renders_typed_fields_and_saves(personas, client_for, demo_rule):
    client = client_for("district_admin")
    url = reverse("core:policy_edit", args=[demo_rule])
    page = client.get(url).content.decode()
    assert 'name="item_days"' in page and 'type="checkbox"' in page and "<textarea" in page
    day = TODAY() + dt.timedelta(days=1)
    response = client.post(url, {"effective_from": day.isoformat(), "item_days": "10", "item_weight": "0.6",
                                 "item_ratio": "0.7", "item_strict": "on", "item_name": "新",
                                 "item_kinds": "咨询\n投诉\n", "item_hours": "1\n2", "note": "试行"})
    assert response.status_code == 302
    value = policy.get(demo_rule, on=day)
    assert value["days"] == 10 and value["strict"] is True and value["kinds"] == ["咨询", "投诉"]
    assert value["hours"] == [1, 2] and value["weight"] == Decimal("0.6")


@pytest.mark.django_db
def test_policy_edit_bad_input_gets_chinese_messages_and_saves_nothing(personas, client_for, demo_rule):
    client = client_for("district_admin")
    url = reverse("core:policy_edit", args=[demo_rule])
    base = {"effective_from": TODAY().isoformat(), "item_days": "0", "item_weight": "0.5", "item_ratio": "0.8",
            "item_name": "x", "item_kinds": "a", "item_hours": "1"}
    response = client.post(url, base)
    assert response.status_code == 400 and "天数必须为正数" in response.content.decode()
    response = client.post(url, {**base, "item_days": "3", "item_hours": "one"})
    assert response.status_code == 400 and "应为整数" in response.content.decode()
    response = client.post(url, {**base, "item_days": "3", "effective_from": "2000-01-01"})
    assert response.status_code == 400 and "不能早于今天" in response.content.decode()
    assert not PolicyVersion.objects.filter(key=demo_rule).exists()


@pytest.mark.django_db
def test_city_version_from_the_form_keeps_only_what_differs(personas, client_for, demo_rule):
    client = client_for("district_admin")
    url = reverse("core:policy_edit", args=[demo_rule])
    data = {"effective_from": TODAY().isoformat(), "city": personas.areas["city"].pk, "item_days": "7",
            "item_weight": "0.5", "item_ratio": "0.8", "item_name": "北京", "item_kinds": "咨询\n求助",
            "item_hours": "2\n24"}
    assert client.post(url, data).status_code == 302
    assert PolicyVersion.objects.get(key=demo_rule, city=personas.areas["city"]).value == {"name": "北京"}


@pytest.mark.django_db
def test_unknown_rule_page_is_404(personas, client_for):
    assert client_for("district_admin").get(reverse("core:policy_edit", args=["no.such"])).status_code == 404


def test_rules_are_cached_and_a_new_version_is_seen_at_once(personas, django_assert_num_queries):
    store = policy
    store.get("core.password")  # warm
    with django_assert_num_queries(0):
        assert store.get("core.password")["min_length"] == 10
    store.policy_set(actor=personas.users["security_admin"], key="core.password", value={"min_length": 12},
                     effective_from=dt.date.today())
    assert store.get("core.password")["min_length"] == 12
