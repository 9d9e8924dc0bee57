"""User and grant administration pages (系统管理员) and the lockout page (安全管理员)."""

from __future__ import annotations

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse

from zhouxin.core.choices import Role
from zhouxin.core.models import AuditEntry, Grant, User
from zhouxin.testing.personas import PASSWORD

USER_LIST = reverse("core:user_list")


def text(response) -> str:
    return response.content.decode()


def make_users(personas, count: int, prefix: str = "bulk") -> None:
    for n in range(count):
        user = User.objects.create_user(username=f"{prefix}{n:03d}", password=PASSWORD, full_name=f"批量{n}")
        Grant.objects.create(user=user, role=Role.RESIDENT, area=personas.areas["community_a"])
        Grant.objects.create(user=user, role=Role.MEMBER, area=personas.areas["community_a"],
                             organisation=personas.orgs["unit_branch"])


# --- list ------------------------------------------------------------------

def test_user_list_shows_accounts_and_their_roles(personas, client_for):
    response = client_for("system_admin").get(USER_LIST)
    assert response.status_code == 200
    body = text(response)
    assert "street_hub" in body and "李淑珍" in body and "街道党工委 · 东华门街道" in body
    assert 'href="/admin/users/"' in body  # the navigation entry


def test_user_list_search(personas, client_for):
    client = client_for("system_admin")
    body = text(client.get(USER_LIST, {"q": "李淑"}))
    assert "street_hub" in body and "community_staff_b" not in body
    body = text(client.get(USER_LIST, {"q": "grid"}))
    assert "grid_worker" in body and "street_hub" not in body
    assert "没有符合条件的账号。" in text(client.get(USER_LIST, {"q": "无此人"}))


def test_user_list_pages(personas, client_for):
    make_users(personas, 30)
    client = client_for("system_admin")
    first = text(client.get(USER_LIST))
    assert "第 1 / 2 页" in first and "bulk000" in first and "street_hub" not in first
    second = text(client.get(USER_LIST, {"page": 2}))
    assert "street_hub" in second and "bulk000" not in second
    # A page number out of range shows the last page instead of failing.
    assert client.get(USER_LIST, {"page": "999"}).status_code == 200
    assert client.get(USER_LIST, {"page": "abc"}).status_code == 200


@pytest.mark.parametrize("extra_users", [0, 40])
def test_user_list_query_count_does_not_grow_with_the_page(personas, client_for, django_assert_num_queries,
                                                           extra_users):
    make_users(personas, extra_users)
    client = client_for("system_admin")
    client.get(USER_LIST)  # settles the session's "last seen" write
    # session, user, OTP device, role set, scope, paginator count, page of users, their grants
    with django_assert_num_queries(8):
        response = client.get(USER_LIST)
    assert response.status_code == 200
    shown = text(response).count('href="/admin/users/') - 2  # minus the nav entry and "new"
    assert shown == min(13 + extra_users, 25)


# --- detail ------------------------------------------------------------------

def test_user_detail_lists_grants_without_business_data(personas, client_for):
    response = client_for("system_admin").get(reverse("core:user_detail", args=[personas.resident.pk]))
    body = text(response)
    assert response.status_code == 200
    assert "吴桂兰" in body and "居民" in body and "多福巷社区" in body and "110101001001" in body
    # The resident's personal record (phone, ID number) never shows on an admin page.
    for personal in ("13812341234", "138****1234", "11010119800101007X", "110***********007X"):
        assert personal not in body


def test_unknown_user_is_404(personas, client_for):
    assert client_for("system_admin").get(reverse("core:user_detail", args=[999999])).status_code == 404


# --- create --------------------------------------------------------------------

def test_create_user_through_the_page(personas, client_for):
    client = client_for("system_admin")
    url = reverse("core:user_create")
    assert client.get(url).status_code == 200
    response = client.post(url, {"username": "wang_fang", "full_name": "王芳",
                                 "password1": "Chushi-Mima-2026!", "password2": "Chushi-Mima-2026!"})
    user = User.objects.get(username="wang_fang")
    assert response.status_code == 302 and response["Location"] == reverse("core:user_detail", args=[user.pk])
    assert user.check_password("Chushi-Mima-2026!") and user.full_name == "王芳"
    assert "账号 wang_fang 已创建" in text(client.get(response["Location"]))


def test_create_user_errors_are_shown_and_change_nothing(personas, client_for):
    client = client_for("system_admin")
    url = reverse("core:user_create")
    cases = [
        ({"username": "", "full_name": "", "password1": "", "password2": ""}, "请填写用户名。"),
        ({"username": "bad name", "full_name": "x", "password1": "Chushi-Mima-2026!",
          "password2": "Chushi-Mima-2026!"}, "用户名只能包含"),
        ({"username": "street_hub", "full_name": "x", "password1": "Chushi-Mima-2026!",
          "password2": "Chushi-Mima-2026!"}, "已被使用"),
        ({"username": "short_pw", "full_name": "x", "password1": "Ab1!", "password2": "Ab1!"}, "密码至少需要 10 位。"),
        ({"username": "mismatch", "full_name": "x", "password1": "Chushi-Mima-2026!",
          "password2": "Chushi-Mima-2026?"}, "两次输入的密码不一致。"),
    ]
    before = User.objects.count()
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200 and message in text(response), message
    assert User.objects.count() == before


# --- grants ----------------------------------------------------------------------

def test_grant_add_through_the_page(personas, client_for):
    client = client_for("system_admin")
    target = User.objects.create_user(username="target", password=PASSWORD)
    url = reverse("core:grant_add", args=[target.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"role": Role.UNIT_LIAISON, "area_code": "110101001001",
                                 "organisation": personas.orgs["unit"].pk})
    assert response.status_code == 302
    grant = Grant.objects.get(user=target)
    assert (grant.role, grant.area, grant.organisation) == (Role.UNIT_LIAISON, personas.areas["community_a"],
                                                            personas.orgs["unit"])
    detail = text(client.get(response["Location"]))
    assert "驻区单位联络员" in detail and "北京市东城区第一人民医院" in detail


def test_grant_form_loads_the_organisations_of_the_area(personas, client_for):
    client = client_for("system_admin")
    url = reverse("core:grant_add", args=[personas.member.pk])
    partial = client.get(url, {"area_code": "110101001001"}, headers={"HX-Request": "true"})
    body = text(partial)
    assert partial.status_code == 200 and "<html" not in body
    assert "北京市东城区第一人民医院" in body and "中共多福巷社区委员会" in body
    assert "东城区城市管理综合行政执法监察局" not in body  # sits on the district, not this community
    assert "找不到该区划代码" in text(client.get(url, {"area_code": "999999"}, headers={"HX-Request": "true"}))


def test_grant_add_errors_are_shown_in_chinese(personas, client_for):
    client = client_for("system_admin")
    url = reverse("core:grant_add", args=[personas.security_admin.pk])
    conflict = client.post(url, {"role": Role.SYSTEM_ADMIN, "area_code": "1101"})
    assert conflict.status_code == 200
    assert "三员分立：冯春梅 已担任安全管理员，不能再担任系统管理员。" in text(conflict)
    no_org = client.post(reverse("core:grant_add", args=[personas.member.pk]),
                         {"role": Role.DEPARTMENT_HANDLER, "area_code": "110101"})
    assert "职能部门承办人 必须指定所属组织。" in text(no_org)
    bad_code = client.post(url, {"role": Role.RESIDENT, "area_code": "12ab"})
    assert "区划代码为 2 到 15 位数字。" in text(bad_code)
    unknown = client.post(url, {"role": Role.RESIDENT, "area_code": "110101999"})
    assert "找不到区划代码为 110101999 的区域" in text(unknown)
    wrong_org = client.post(reverse("core:grant_add", args=[personas.member.pk]),
                            {"role": Role.UNIT_LIAISON, "area_code": "110101001001",
                             "organisation": personas.orgs["department"].pk})
    assert "所选组织不在该区域节点上。" in text(wrong_org)
    assert Grant.objects.filter(user=personas.security_admin).count() == 1
    assert Grant.objects.filter(user=personas.member).count() == 1


def test_own_grants_cannot_be_changed(personas, client_for):
    client = client_for("system_admin")
    detail = text(client.get(reverse("core:user_detail", args=[personas.system_admin.pk])))
    assert reverse("core:grant_add", args=[personas.system_admin.pk]) not in detail
    response = client.post(reverse("core:grant_add", args=[personas.system_admin.pk]),
                           {"role": Role.DISTRICT_ADMIN, "area_code": "110101"})
    assert "系统管理员不能给自己授权" in text(response)


def test_grant_revoke_through_the_page(personas, client_for):
    client = client_for("system_admin")
    grant = personas.grid_worker.grants.get()
    response = client.post(reverse("core:grant_revoke", args=[grant.pk]))
    assert response["Location"] == reverse("core:user_detail", args=[personas.grid_worker.pk])
    assert not Grant.objects.filter(pk=grant.pk).exists()
    assert "已撤销 陈晓东 的角色：网格员" in text(client.get(response["Location"]))
    assert client.get(reverse("core:grant_revoke", args=[grant.pk])).status_code == 405
    assert client.post(reverse("core:grant_revoke", args=[grant.pk])).status_code == 404


def test_revoked_grant_takes_effect_at_once(personas, client_for):
    worker = client_for("grid_worker")
    assert worker.get(reverse("core:home")).status_code == 200
    client_for("system_admin").post(reverse("core:grant_revoke", args=[personas.grid_worker.grants.get().pk]))
    assert "暂无授权" in text(worker.get(reverse("core:home")))


# --- deactivate / reactivate ---------------------------------------------------------

def test_deactivate_through_the_page_logs_the_user_out(personas, client_for):
    victim = client_for("community_staff")
    assert victim.get(reverse("core:home")).status_code == 200
    admin = client_for("system_admin")
    url = reverse("core:user_deactivate", args=[personas.community_staff.pk])
    assert admin.get(url).status_code == 405
    response = admin.post(url)
    assert response.status_code == 302
    assert "其所有登录会话均已结束" in text(admin.get(response["Location"]))
    assert victim.get(reverse("core:home")).status_code == 302
    # And the password no longer works.
    login = Client().post(reverse("core:login"), {"username": "community_staff", "password": PASSWORD})
    assert login.status_code == 200 and "用户名或密码错误" in text(login)

    admin.post(reverse("core:user_reactivate", args=[personas.community_staff.pk]))
    assert User.objects.get(pk=personas.community_staff.pk).is_active


def test_cannot_deactivate_oneself_through_the_page(personas, client_for):
    admin = client_for("system_admin")
    response = admin.post(reverse("core:user_deactivate", args=[personas.system_admin.pk]))
    assert "不能停用自己的账号。" in text(admin.get(response["Location"]))
    assert User.objects.get(pk=personas.system_admin.pk).is_active


# --- lockouts ------------------------------------------------------------------------

def test_security_admin_sees_and_clears_a_lockout(personas, client_for):
    attacker = Client()
    for attempt in range(6):
        attacker.post(reverse("core:login"), {"username": "street_hub", "password": f"wrong-{attempt}"})
    assert AccessAttempt.objects.filter(username="street_hub").exists()
    client = client_for("security_admin")
    page = text(client.get(reverse("core:lockout_list")))
    assert "street_hub" in page and "锁定至" in page
    response = client.post(reverse("core:lockout_clear"), {"username": "street_hub"})
    assert response["Location"] == reverse("core:lockout_list")
    assert "已解除 street_hub 的登录锁定。" in text(client.get(reverse("core:lockout_list")))
    assert not AccessAttempt.objects.filter(username="street_hub").exists()
    assert AuditEntry.objects.filter(action="core.auth.lockout_clear", object_repr="street_hub").exists()
    assert attacker.post(reverse("core:login"), {"username": "street_hub", "password": PASSWORD}).status_code == 302
    assert "请指定要解锁的用户名。" in text(client.post(reverse("core:lockout_clear"), {}, follow=True))
