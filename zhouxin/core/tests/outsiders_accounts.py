"""Outsider cases for sign-in, user and grant administration, and lockouts."""

from django.urls import reverse

from zhouxin.testing.outsiders import Case

FORBIDDEN = frozenset({403})
TO_LOGIN = frozenset({302})

# Everyone but the system administrator: staff of every level, the other two of
# the 三员, members, residents and the other district's staff.
NOT_SYSTEM_ADMIN = ("district_admin", "street_hub", "community_staff", "grid_worker", "department_handler",
                    "unit_liaison", "member", "resident", "outsider", "security_admin", "audit_admin")
NOT_SECURITY_ADMIN = ("system_admin", "audit_admin", "district_admin", "street_hub", "community_staff",
                      "member", "resident", "outsider")


def cases(personas):
    target = personas.users["community_staff"]
    grant = target.grants.first()
    admin_urls = [
        ("core:user_list", reverse("core:user_list"), "get", None),
        ("core:user_create", reverse("core:user_create"), "post",
         {"username": "intruder", "full_name": "X", "password1": "Aa1!aaaaaaaa", "password2": "Aa1!aaaaaaaa"}),
        ("core:user_detail", reverse("core:user_detail", args=[target.pk]), "get", None),
        ("core:user_deactivate", reverse("core:user_deactivate", args=[target.pk]), "post", None),
        ("core:user_reactivate", reverse("core:user_reactivate", args=[target.pk]), "post", None),
        ("core:grant_add", reverse("core:grant_add", args=[target.pk]), "post",
         {"role": "district_admin", "area_code": "1101"}),
        ("core:grant_revoke", reverse("core:grant_revoke", args=[grant.pk]), "post", None),
    ]
    security_urls = [
        ("core:lockout_list", reverse("core:lockout_list"), "get", None),
        ("core:lockout_clear", reverse("core:lockout_clear"), "post", {"username": "street_hub"}),
    ]
    result = []
    for urls, personas_refused in ((admin_urls, NOT_SYSTEM_ADMIN), (security_urls, NOT_SECURITY_ADMIN)):
        for name, url, method, data in urls:
            result.append(Case(name, None, url, TO_LOGIN, method=method, data=data))
            for persona in personas_refused:
                result.append(Case(name, persona, url, FORBIDDEN, method=method, data=data,
                                   must_not_contain=(target.username,) if method == "get" else ()))
    # Changing one's password needs a signed-in user.
    result.append(Case("core:password_change", None, reverse("core:password_change"), TO_LOGIN))
    # The second sign-in steps need a correct password first.
    result.append(Case("core:verify_totp", None, reverse("core:verify_totp"), TO_LOGIN))
    result.append(Case("core:enrol_totp", None, reverse("core:enrol_totp"), TO_LOGIN))
    result.append(Case("core:verify_totp", None, reverse("core:verify_totp"), TO_LOGIN, method="post",
                       data={"token": "123456"}))
    return result
