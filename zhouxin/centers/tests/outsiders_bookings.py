"""Outsider cases of the booking pages.  A booking and a room of 景山街道's 吉祥社区 centre: staff of
东华门街道 (street hub, 多福巷 community staff), the 西城区 outsider and the unit liaison do not find
them (404); roles without the centre permissions are refused (403); anonymous visitors are sent to
sign in.  A liaison does not find a booking of their own community that is not their unit's.  The
portal's booking pages need a resident session: without one (anonymous or a staff login) they
send the visitor to the resident sign-in."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})
SECRET_B = "吉祥保密预约"
SECRET_A = "多福巷内部会议"
NO_CENTRE_ROLE = ("grid_worker", "department_handler", "resident", "member", "system_admin", "security_admin",
                  "audit_admin")
STAFF = ("district_admin", "street_hub", "community_staff", "community_staff_b", "outsider", "unit_liaison",
         "grid_worker", "resident")


def cases(personas) -> list:
    from django.urls import reverse

    from zhouxin.centers.choices import BookerKind
    from zhouxin.centers.models import Room

    from .helpers_bookings import at, centre, room, staff_booking_for

    jixiang = room(centre(personas, area="community_b", name="吉祥社区睦邻中心"), name="吉祥议事厅")
    secret_b = staff_booking_for(personas.community_staff_b, jixiang, title=SECRET_B, starts_at=at(2, 9),
                                 ends_at=at(2, 10), kind=BookerKind.STAFF)
    duofu = room(centre(personas, name="多福巷社区睦邻中心"), name="多功能活动室")
    secret_a = staff_booking_for(personas.community_staff, duofu, title=SECRET_A, starts_at=at(2, 9),
                                 ends_at=at(2, 10), kind=BookerKind.STAFF)
    hidden = room(duofu.centre, name="档案室")
    Room.objects.unscoped().filter(pk=hidden.pk).update(bookable=False)

    out: list[Case] = []

    def add(name, url, expected_by_persona, method="get", data=None, secrets=(SECRET_B, SECRET_A)):
        out.append(Case(name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=secrets))

    no_role = [(p, FORBIDDEN) for p in NO_CENTRE_ROLE]
    not_theirs = [(p, NOT_FOUND) for p in ("street_hub", "community_staff", "outsider", "unit_liaison")]

    # The list: open to area staff and liaisons, each seeing only what they reach.
    add("centers:booking_list", reverse("centers:booking_list"), [*no_role, ("outsider", OK), ("unit_liaison", OK)])
    for persona in ("street_hub", "community_staff"):
        out.append(Case("centers:booking_list", persona, reverse("centers:booking_list"), expected=OK,
                        must_not_contain=(SECRET_B,)))
    out.append(Case("centers:booking_list", "community_staff_b", reverse("centers:booking_list"), expected=OK,
                    must_not_contain=(SECRET_A,)))
    # Another area's booking, room and week.
    add("centers:booking_detail", reverse("centers:booking_detail", args=[secret_b.pk]), [*no_role, *not_theirs])
    add("centers:booking_week", reverse("centers:booking_week", args=[jixiang.pk]), [*no_role, *not_theirs])
    # A liaison does not find the community's own booking (not their unit's).
    out.append(Case("centers:booking_detail", "unit_liaison", reverse("centers:booking_detail", args=[secret_a.pk]),
                    expected=NOT_FOUND, must_not_contain=(SECRET_A,)))
    out.append(Case("centers:booking_week", "unit_liaison", reverse("centers:booking_week", args=[jixiang.pk]),
                    expected=NOT_FOUND, must_not_contain=(SECRET_B,)))

    # The form: only who may book, and only for rooms they may book.
    add("centers:booking_create", reverse("centers:booking_create"),
        [*no_role, ("district_admin", FORBIDDEN), ("outsider", FORBIDDEN)])
    day = at(3, 9).date().isoformat()
    out.append(Case("centers:booking_create", "community_staff", reverse("centers:booking_create"), method="post",
                    data={"room": jixiang.pk, "booker_kind": "staff", "title": "越权预约", "day": day,
                          "start": "09:00", "end": "10:00", "expected": 5}, expected=frozenset({422}),
                    must_not_contain=(SECRET_B,)))

    # Actions on another area's booking.
    for name in ("centers:booking_decide", "centers:booking_no_show", "centers:booking_complete"):
        data = {"decision": "approve", "note": "同意", "attended": 5}
        add(name, reverse(name, args=[secret_b.pk]),
            [*no_role, ("district_admin", FORBIDDEN), ("unit_liaison", FORBIDDEN),
             ("street_hub", NOT_FOUND), ("community_staff", NOT_FOUND), ("outsider", NOT_FOUND)],
            method="post", data=data)
    add("centers:booking_cancel", reverse("centers:booking_cancel", args=[secret_b.pk]),
        [*no_role, ("district_admin", FORBIDDEN), *not_theirs], method="post", data={"reason": "越权取消"})
    out.append(Case("centers:booking_cancel", "unit_liaison", reverse("centers:booking_cancel", args=[secret_a.pk]),
                    method="post", data={"reason": "越权取消"}, expected=NOT_FOUND))

    # Portal: a resident session is needed; staff logins are not one.
    for name, url, method in (
        ("centers_public:room_book", reverse("centers_public:room_book", args=[jixiang.pk]), "get"),
        ("centers_public:room_book", reverse("centers_public:room_book", args=[jixiang.pk]), "post"),
        ("centers_public:my_bookings", reverse("centers_public:my_bookings"), "get"),
        ("centers_public:my_booking_cancel", reverse("centers_public:my_booking_cancel", args=[secret_b.pk]), "post"),
    ):
        for persona in (None, *STAFF):
            out.append(Case(name, persona, url, method=method, expected=ANON,
                            data={"day": day, "start": "09:00", "end": "10:00", "title": "x", "expected": 1}
                            if method == "post" else None, must_not_contain=(SECRET_B, SECRET_A)))
    # A room that is not open for booking is not found, whoever asks.
    for persona in (None, "community_staff"):
        out.append(Case("centers_public:room_book", persona,
                        reverse("centers_public:room_book", args=[hidden.pk]), expected=NOT_FOUND))
    return out
