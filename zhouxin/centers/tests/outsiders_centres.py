"""Outsider cases of the centre pages (centres, rooms, catalogue, rota; views_centres.py): 景山街道's
吉祥社区 has a centre with a room, a catalogue entry and a shift.  The hub of 东华门街道, the staff of
多福巷社区 and of 西城区 do not find it (404); roles without "centers.view" are refused (403), the
district reads it but may not change it (403); anonymous visitors are sent to sign in (302)."""

from zhouxin.testing.outsiders import Case

ANON = frozenset({302})
FORBIDDEN = frozenset({403})
NOT_FOUND = frozenset({404})
OK = frozenset({200})

# Signed in, but holding no centre permission at all.
NO_CENTRE_ROLE = ("resident", "unit_liaison", "grid_worker", "member", "department_handler", "system_admin",
                  "security_admin", "audit_admin")
OTHER_AREA = ("street_hub", "community_staff", "outsider")


def cases(personas) -> list[Case]:
    import datetime as dt
    from decimal import Decimal

    from django.urls import reverse
    from django.utils import timezone

    from zhouxin.centers import centres
    from zhouxin.core.scoping import scopes_disabled

    name, address = "吉祥社区邻里中心", "景山保密巷 17 号"
    every_morning = {key: [["08:00", "12:00"]] for key in centres.HOURS_KEYS}
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    staff_b = personas.community_staff_b
    with scopes_disabled():
        centre = centres.centre_save(actor=staff_b, area=personas.areas["community_b"], name=name, address=address,
                                     floor_area=Decimal("900"), opening_hours=every_morning)
        room = centres.room_save(actor=staff_b, centre=centre, name="吉祥活动室", floor_area=Decimal("200"),
                                 capacity=50)
        item = centres.service_item_save(actor=staff_b, centre=centre, name="吉祥代办服务")
        shift = centres.rota_assign(actor=staff_b, centre=centre, day=tomorrow, period="morning", worker=staff_b,
                                    role="a")
    hidden = (name, address)
    out: list[Case] = []

    def add(url_name, url, expected_by_persona, method="get", data=None):
        out.append(Case(url_name, None, url, method=method, data=data, expected=ANON))
        for persona, expected in expected_by_persona:
            out.append(Case(url_name, persona, url, method=method, data=data, expected=expected,
                            must_not_contain=hidden))

    no_role = [(p, FORBIDDEN) for p in NO_CENTRE_ROLE]
    other_area = [(p, NOT_FOUND) for p in OTHER_AREA]
    keep = [*no_role, *other_area, ("district_admin", FORBIDDEN)]  # pages that change a centre
    read = [*no_role, *other_area]

    # The list: open to centre staff, but only their own areas' centres are on it.
    add("centers:centre_list", reverse("centers:centre_list"),
        [*no_role, ("street_hub", OK), ("community_staff", OK), ("outsider", OK)])

    # Setting up a centre: another street's community is not found, the district does not keep centres.
    create = reverse("centers:centre_create")
    post = {"area": personas.areas["community_b"].code, "name": "吉祥社区第二中心", "address": "景山 1 号",
            "floor_area": "500", "hours_mon_1_start": "08:00", "hours_mon_1_end": "12:00"}
    add("centers:centre_create", create, [*no_role, ("district_admin", FORBIDDEN), ("street_hub", OK)])
    add("centers:centre_create", create, [*no_role, ("district_admin", FORBIDDEN), *other_area], method="post",
        data=post)

    detail = reverse("centers:centre_detail", args=[centre.pk])
    add("centers:centre_detail", detail, read)
    edit = reverse("centers:centre_edit", args=[centre.pk])
    add("centers:centre_edit", edit, keep)
    add("centers:centre_edit", edit, keep, method="post", data={**post, "name": name})

    room_new = reverse("centers:room_create", args=[centre.pk])
    room_data = {"name": "外人活动室", "floor_area": "10", "capacity": "5"}
    add("centers:room_create", room_new, keep)
    add("centers:room_create", room_new, keep, method="post", data=room_data)
    room_edit = reverse("centers:room_edit", args=[centre.pk, room.pk])
    add("centers:room_edit", room_edit, keep)
    add("centers:room_edit", room_edit, keep, method="post", data=room_data)

    service_new = reverse("centers:service_create", args=[centre.pk])
    add("centers:service_create", service_new, keep)
    add("centers:service_create", service_new, keep, method="post", data={"name": "外人服务"})
    service_edit = reverse("centers:service_edit", args=[centre.pk, item.pk])
    add("centers:service_edit", service_edit, keep)
    add("centers:service_edit", service_edit, keep, method="post", data={"name": "外人服务"})
    add("centers:service_delete", reverse("centers:service_delete", args=[centre.pk, item.pk]), keep, method="post")

    rota = reverse("centers:rota", args=[centre.pk])
    add("centers:rota", rota, read)
    out.append(Case("centers:rota", "community_staff_b", f"{rota}?week={tomorrow.isoformat()}", expected=OK))
    add("centers:rota_assign", reverse("centers:rota_assign", args=[centre.pk]), keep, method="post",
        data={"day": tomorrow.isoformat(), "period": "morning", "worker": personas.street_hub.pk, "role": "b"})
    add("centers:rota_remove", reverse("centers:rota_remove", args=[centre.pk, shift.pk]), keep, method="post")
    # The district reads the centre and its rota.
    out.append(Case("centers:centre_detail", "district_admin", detail, expected=OK))
    out.append(Case("centers:rota", "district_admin", rota, expected=OK))
    return out
