"""Outsider cases for the work pages: intake, queues, request detail, actions, bulk, reveal, attachments.

A request of 多福巷社区 (东华门街道) with a contact phone and an image; a request of 吉祥社区
(景山街道).  Staff of 吉祥社区, a department it was never assigned to, the 西城 outsider and
roles without dispatch work must not find, change or read them.
"""

from django.urls import reverse

from zhouxin.dispatch import services
from zhouxin.dispatch.models import Attachment
from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
REFUSED = frozenset({403, 404})
NOT_FOUND = frozenset({404})
FORBIDDEN = frozenset({403})
SHOWN = frozenset({200})

TITLE_A = "多福巷外人不可见的楼道诉求"
TITLE_B = "吉祥社区外人不可见的噪音诉求"
PHONE_A = "13811112222"


def _request(personas, actor, area, title, phone):
    return services.request_intake(
        actor=personas.users[actor], area=personas.areas[area], kind="complaint", channel="hotline", title=title,
        description=f"{title}：详细情况说明。", contact_name="外人测试", contact_phone=phone)


def cases(personas):
    a = _request(personas, "community_staff", "community_a", TITLE_A, PHONE_A)
    b = _request(personas, "community_staff_b", "community_b", TITLE_B, "13922223333")
    image = Attachment.objects.create(request=a, file="dispatch/outsider-case.png", original_name="现场.png",
                                      content_type="image/png", size=10, sha256="0" * 64)
    # (The number itself is in the URL the visitor typed, so pages may echo it; the rest must not show.)
    leak_a = (TITLE_A, PHONE_A, "外人测试")
    urls = {
        "dispatch:queue": reverse("dispatch:queue"),
        "dispatch:intake": reverse("dispatch:intake"),
        "dispatch:category_search": reverse("dispatch:category_search") + "?category_q=楼道",
        "dispatch:request_detail": reverse("dispatch:request_detail", args=[a.number]),
        "dispatch:request_receipt": reverse("dispatch:request_receipt", args=[a.number]),
        "dispatch:attachment": reverse("dispatch:attachment", args=[a.number, image.pk]),
    }
    posts = {
        "dispatch:intake_suggest": (reverse("dispatch:intake_suggest"), {"title": "楼道", "description": "楼道堆物"}),
        "dispatch:bulk": (reverse("dispatch:bulk"), {"action": "accept", "numbers": [a.number]}),
        "dispatch:request_reveal": (reverse("dispatch:request_reveal", args=[a.number]), {"reason": "核实情况"}),
        "dispatch:request_action": (reverse("dispatch:request_action", args=[a.number, "invalidate"]),
                                    {"reason": "外人试图判定无效"}),
    }
    result = [Case(name, None, url, ANON) for name, url in urls.items()]
    result += [Case(name, None, url, ANON, method="post", data=data) for name, (url, data) in posts.items()]

    # 吉祥社区's staff: 多福巷社区's request, its image, its phone and its actions do not exist for them.
    staff_b = "community_staff_b"
    for name in ("dispatch:request_detail", "dispatch:request_receipt", "dispatch:attachment"):
        result.append(Case(name, staff_b, urls[name], NOT_FOUND, must_not_contain=leak_a))
    result += [
        Case("dispatch:request_reveal", staff_b, posts["dispatch:request_reveal"][0], NOT_FOUND, method="post",
             data=posts["dispatch:request_reveal"][1], must_not_contain=(PHONE_A,)),
        Case("dispatch:request_action", staff_b, reverse("dispatch:request_action", args=[a.number, "accept"]),
             NOT_FOUND, method="post", must_not_contain=leak_a),
        Case("dispatch:request_action", staff_b, reverse("dispatch:request_action", args=[a.number, "callback"]),
             NOT_FOUND, method="post", data={"resolution": "resolved", "satisfaction": "satisfied"}),
        Case("dispatch:queue", staff_b, urls["dispatch:queue"] + "?tab=all", SHOWN, must_not_contain=leak_a),
        Case("dispatch:queue", staff_b, urls["dispatch:queue"] + f"?tab=all&q={a.number}", SHOWN,
             must_not_contain=leak_a),
        Case("dispatch:queue", staff_b, urls["dispatch:queue"] + f"?area={personas.areas['community_a'].code}",
             NOT_FOUND),
        # Bulk accept of a request outside the scope: listed as not found, nothing of it shown.
        Case("dispatch:bulk", staff_b, posts["dispatch:bulk"][0], SHOWN, method="post",
             data={"action": "accept", "numbers": [a.number], "confirm": "1"}, must_not_contain=(TITLE_A,)),
        # Intake into another street's community: refused, nothing recorded.
        Case("dispatch:intake", staff_b, urls["dispatch:intake"], frozenset({422}), method="post",
             data={"idempotency_key": "f" * 32, "channel": "hotline", "kind": "complaint",
                   "area": personas.areas["community_a"].code, "title": "越界登记",
                   "description": "试图登记到其他街道的社区。"},
             must_not_contain=("多福巷社区",)),
    ]

    # A street hub cannot act on another street's request.
    result += [
        Case("dispatch:request_detail", "street_hub", reverse("dispatch:request_detail", args=[b.number]), NOT_FOUND,
             must_not_contain=(TITLE_B,)),
        Case("dispatch:request_action", "street_hub", reverse("dispatch:request_action", args=[b.number, "dispatch"]),
             NOT_FOUND, method="post", data={"lead": personas.orgs["community_b_committee"].pk}),
        Case("dispatch:bulk", "street_hub", posts["dispatch:bulk"][0], SHOWN, method="post",
             data={"action": "dispatch", "numbers": [b.number], "confirm": "1",
                   "lead": personas.orgs["community_a_committee"].pk}, must_not_contain=(TITLE_B,)),
    ]

    # A department reaches only requests assigned to it: neither is.
    dept = "department_handler"
    result += [
        Case("dispatch:request_detail", dept, urls["dispatch:request_detail"], NOT_FOUND, must_not_contain=leak_a),
        Case("dispatch:attachment", dept, urls["dispatch:attachment"], NOT_FOUND),
        Case("dispatch:request_reveal", dept, posts["dispatch:request_reveal"][0], NOT_FOUND, method="post",
             data=posts["dispatch:request_reveal"][1], must_not_contain=(PHONE_A,)),
        Case("dispatch:queue", dept, urls["dispatch:queue"] + "?tab=all", SHOWN, must_not_contain=leak_a + (TITLE_B,)),
        Case("dispatch:intake", dept, urls["dispatch:intake"], FORBIDDEN),
        Case("dispatch:intake_suggest", dept, posts["dispatch:intake_suggest"][0], FORBIDDEN, method="post",
             data=posts["dispatch:intake_suggest"][1]),
        Case("dispatch:bulk", dept, posts["dispatch:bulk"][0], FORBIDDEN, method="post",
             data={"action": "dispatch", "numbers": [a.number]}),
    ]

    # The 西城 outsider sees nothing of 东城.
    out = "outsider"
    for name in ("dispatch:request_detail", "dispatch:request_receipt", "dispatch:attachment"):
        result.append(Case(name, out, urls[name], NOT_FOUND, must_not_contain=leak_a))
    result += [
        Case("dispatch:queue", out, urls["dispatch:queue"] + "?tab=all", SHOWN, must_not_contain=leak_a + (TITLE_B,)),
        Case("dispatch:request_action", out, posts["dispatch:request_action"][0], NOT_FOUND, method="post",
             data=posts["dispatch:request_action"][1]),
        Case("dispatch:request_reveal", out, posts["dispatch:request_reveal"][0], NOT_FOUND, method="post",
             data=posts["dispatch:request_reveal"][1], must_not_contain=(PHONE_A,)),
        Case("dispatch:intake", out, urls["dispatch:intake"], SHOWN, must_not_contain=("多福巷社区", "东华门街道")),
    ]

    # Roles without dispatch work (unit, member, resident, 三员) are refused every page.
    for persona in ("unit_liaison", "member", "resident", "system_admin", "audit_admin"):
        result += [Case(name, persona, url, FORBIDDEN) for name, url in urls.items()]
        result += [Case(name, persona, url, FORBIDDEN, method="post", data=data)
                   for name, (url, data) in posts.items()]
    return result
