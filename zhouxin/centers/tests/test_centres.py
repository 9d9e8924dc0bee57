"""Centres, their opening hours, rooms and service catalogue: the services (who, what is refused and
why, the audit) and the pages (list scoped to the caller's area, forms, detail)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.centers import centres
from zhouxin.centers.models import Centre, Room, ServiceItem
from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled

from .helpers_centres import HOURS, D, make_centre, make_room, travel


def _hours_post(hours=None) -> dict:
    """The centre form's hour fields for opening hours given as {"mon": [["08:30", "12:00"], …]}."""
    data = {}
    for key, intervals in (HOURS if hours is None else hours).items():
        for slot, (start, end) in enumerate(intervals, start=1):
            data[f"hours_{key}_{slot}_start"] = start
            data[f"hours_{key}_{slot}_end"] = end
    return data


# --- centre_save ----------------------------------------------------------------------------------

def test_a_community_sets_up_its_centre_with_hours_and_it_is_audited(personas):
    centre = make_centre(personas, floor_area="650.5", phone="010-65120000",
                         hours={"mon": [["13:30", "20:00"], ["8:30", "12:00"]], "sat": [["09:00", "17:00"]]})
    centre.refresh_from_db()
    assert centre.floor_area == D("650.50") and centre.area == personas.areas["community_a"]
    # Sorted, zero-padded, every day present (closed days empty).
    assert centre.opening_hours == {"mon": [["08:30", "12:00"], ["13:30", "20:00"]], "tue": [], "wed": [], "thu": [],
                                    "fri": [], "sat": [["09:00", "17:00"]], "sun": [], "holiday": []}
    with scopes_disabled():
        entry = AuditEntry.objects.get(action="centers.centre.created", object_id=str(centre.pk))
    assert entry.actor_id == personas.community_staff.pk
    assert entry.after["floor_area"] == "650.50" and entry.after["opening_hours"]["sat"] == [["09:00", "17:00"]]


def test_changing_a_centre_records_before_and_after(personas):
    centre = make_centre(personas)
    with scopes_disabled():
        centres.centre_save(actor=personas.street_hub, area=centre.area, name=centre.name, address="新地址 8 号",
                            floor_area=D("900"), opening_hours=HOURS, centre=centre)
        entry = AuditEntry.objects.get(action="centers.centre.updated", object_id=str(centre.pk))
    assert entry.before["address"] == "多福巷社区1号" and entry.after["address"] == "新地址 8 号"
    assert entry.before["floor_area"] == "800.00" and entry.after["floor_area"] == "900.00"


@pytest.mark.parametrize("actor, area", [
    ("community_staff", "community_b"),  # another street's community
    ("community_staff", "street_a"),  # the street above: the street's own staff keep its centre
    ("street_hub", "community_b"),
    ("district_admin", "community_a"),  # reads centres, does not keep them
    ("outsider", "community_a"),
    ("unit_liaison", "community_a"),
    ("grid_worker", "community_a"),
])
def test_only_staff_of_the_area_keep_a_centre(personas, actor, area):
    with pytest.raises(PermissionDenied):
        make_centre(personas, area, actor=actor)
    with scopes_disabled():
        assert not Centre.objects.unscoped().exists()


@pytest.mark.parametrize("changes, message", [
    ({"floor_area": "0"}, "建筑面积必须大于零"),
    ({"floor_area": "-3"}, "建筑面积必须大于零"),
    ({"floor_area": "12.345"}, "建筑面积最多保留两位小数"),
    ({"floor_area": "abc"}, "建筑面积应为数字"),
    ({"name": "  "}, "请填写中心名称"),
    ({"name": "中" * 81}, "中心名称不能超过 80 个字"),
    ({"address": ""}, "请填写地址"),
])
def test_bad_centre_facts_are_refused_with_a_message(personas, changes, message):
    values = {"name": "多福巷社区党群服务中心", "address": "多福巷 1 号", "floor_area": "800", **changes}
    with pytest.raises(ValidationError, match=message), scopes_disabled():
        centres.centre_save(actor=personas.community_staff, area=personas.areas["community_a"],
                            opening_hours=HOURS, **values)
    with scopes_disabled():
        assert not Centre.objects.unscoped().exists()


def test_a_centre_is_for_a_district_street_or_community_and_its_name_is_unique_there(personas):
    with pytest.raises(ValidationError, match="服务中心只能设在区、街道或社区"):
        make_centre(personas, "grid_a")
    make_centre(personas, name="多福巷社区党群服务中心")
    with pytest.raises(ValidationError, match="多福巷社区已有名为“多福巷社区党群服务中心”的服务中心"):
        make_centre(personas, name="多福巷社区党群服务中心")
    make_centre(personas, "community_a2", actor="street_hub", name="多福巷社区党群服务中心")  # another area may


# --- opening hours ----------------------------------------------------------------------------------

@pytest.mark.parametrize("hours, message", [
    ({"mon": [["25:00", "26:00"]]}, "周一第 1 段的开始时间“25:00”格式不对，应为 HH:MM，如 08:30。"),
    ({"tue": [["08:30", "8点"]]}, "周二第 1 段的结束时间“8点”格式不对，应为 HH:MM，如 08:30。"),
    ({"wed": [["12:00", "08:30"]]}, "周三第 1 段的开始时间 12:00 应早于结束时间 08:30。"),
    ({"thu": [["09:00", "09:00"]]}, "周四第 1 段的开始时间 09:00 应早于结束时间 09:00。"),
    ({"fri": [["08:30", "12:30"], ["12:00", "20:00"]]}, "周五的两段开放时间 08:30–12:30 与 12:00–20:00 重叠。"),
    ({"sat": [["08:00", "09:00"], ["10:00", "11:00"], ["12:00", "13:00"]]}, "周六最多填写两段开放时间。"),
    ({"holiday": [["9:00"]]}, "法定节假日第 1 段应有开始时间和结束时间。"),
    ({"someday": []}, "开放时间中有无法识别的日子：someday。"),
])
def test_bad_opening_hours_are_refused_naming_the_day(personas, hours, message):
    with pytest.raises(ValidationError) as refused:
        make_centre(personas, hours=hours)
    assert message in refused.value.messages
    with scopes_disabled():
        assert not Centre.objects.unscoped().exists()


def test_touching_intervals_and_evenings_and_weekends_are_fine(personas):
    centre = make_centre(personas, hours={"sun": [["08:00", "12:00"], ["12:00", "21:30"]],
                                          "holiday": [["18:00", "23:59"]]})
    assert centres.open_periods(centres.opening_intervals(centre, dt.date(2030, 12, 1))) == [
        "morning", "afternoon", "evening"]
    assert centres.open_periods(centres.opening_intervals(centre, dt.date(2030, 10, 1))) == ["evening"]
    assert centres.open_periods([(dt.time(11, 0), dt.time(12, 0))]) == ["morning"]
    assert centres.open_periods([(dt.time(12, 0), dt.time(18, 0))]) == ["afternoon"]
    assert centres.open_periods([(dt.time(17, 0), dt.time(18, 30))]) == ["afternoon", "evening"]


# --- rooms ------------------------------------------------------------------------------------------

def test_rooms_are_added_changed_and_audited(personas):
    centre = make_centre(personas)
    room = make_room(personas, centre, "多功能活动室", "120", capacity=60, equipment="投影仪、音响")
    with scopes_disabled():
        centres.room_save(actor=personas.street_hub, centre=centre, room=room, name="多功能活动室",
                          floor_area=D("150"), capacity=80, equipment="投影仪", for_residents=True, bookable=True,
                          needs_approval=False)
        room.refresh_from_db()
        created = AuditEntry.objects.get(action="centers.room.created", object_id=str(room.pk))
        updated = AuditEntry.objects.get(action="centers.room.updated", object_id=str(room.pk))
    assert (room.floor_area, room.capacity, room.needs_approval) == (D("150.00"), 80, False)
    assert created.after["capacity"] == 60 and updated.before["capacity"] == 60 and updated.after["capacity"] == 80


def test_rooms_cannot_add_up_to_more_than_the_building(personas):
    centre = make_centre(personas, floor_area="300")
    make_room(personas, centre, "多功能活动室", "200")
    with pytest.raises(ValidationError, match="各功能室面积合计 300.01 平方米，超过了中心建筑面积 300 平方米"):
        make_room(personas, centre, "阅览室", "100.01")
    make_room(personas, centre, "阅览室", "100")  # exactly the building
    # …and the building cannot then shrink below its rooms.
    with pytest.raises(ValidationError, match="各功能室面积合计 300 平方米，建筑面积不能小于它"), scopes_disabled():
        centres.centre_save(actor=personas.community_staff, area=centre.area, name=centre.name,
                            address=centre.address, floor_area=D("299"), opening_hours=HOURS, centre=centre)


@pytest.mark.parametrize("values, message", [
    ({"capacity": 0}, "容纳人数应为 1 到"),
    ({"capacity": "很多"}, "容纳人数应为整数"),
    ({"floor_area": "0"}, "功能室面积必须大于零"),
    ({"name": ""}, "请填写功能室名称"),
])
def test_bad_room_facts_are_refused(personas, values, message):
    centre = make_centre(personas)
    args = {"name": "活动室", "floor_area": "50", "capacity": 20, **values}
    with pytest.raises(ValidationError, match=message), scopes_disabled():
        centres.room_save(actor=personas.community_staff, centre=centre, **args)
    with scopes_disabled():
        assert not Room.objects.unscoped().exists()


def test_a_room_name_is_unique_in_its_centre_and_another_street_cannot_add_rooms(personas):
    centre = make_centre(personas)
    make_room(personas, centre, "党员活动室")
    with pytest.raises(ValidationError, match="已有名为“党员活动室”的功能室"):
        make_room(personas, centre, "党员活动室")
    with pytest.raises(PermissionDenied):
        make_room(personas, centre, "阅览室", actor="community_staff_b")


# --- service catalogue ------------------------------------------------------------------------------

def test_service_items_are_added_changed_deleted_and_audited(personas):
    centre = make_centre(personas)
    with scopes_disabled():
        item = centres.service_item_save(actor=personas.community_staff, centre=centre, name="老年人优待证办理",
                                         hours="周一至周五 09:00–11:30", order=2)
        centres.service_item_save(actor=personas.community_staff, centre=centre, item=item, name="老年人优待证办理",
                                  description="带身份证原件", hours="", order=1)
        item.refresh_from_db()
        assert (item.description, item.hours, item.order) == ("带身份证原件", "", 1)
        centres.service_item_delete(actor=personas.street_hub, item=item)
        assert not ServiceItem.objects.exists()
        actions = list(AuditEntry.objects.filter(object_id=str(item.pk), action__startswith="centers.service.")
                       .order_by("id").values_list("action", flat=True))
    assert actions == ["centers.service.created", "centers.service.updated", "centers.service.deleted"]


def test_service_items_are_checked_and_kept_by_the_area_only(personas):
    centre = make_centre(personas)
    with pytest.raises(ValidationError, match="请填写服务事项"), scopes_disabled():
        centres.service_item_save(actor=personas.community_staff, centre=centre, name=" ")
    with pytest.raises(PermissionDenied), scopes_disabled():
        centres.service_item_save(actor=personas.outsider, centre=centre, name="代缴水电费")
    with scopes_disabled():
        item = centres.service_item_save(actor=personas.community_staff, centre=centre, name="代缴水电费")
    with pytest.raises(PermissionDenied), scopes_disabled():
        centres.service_item_delete(actor=personas.community_staff_b, item=item)
    assert ServiceItem.objects.filter(pk=item.pk).exists()


# --- pages ------------------------------------------------------------------------------------------

def test_the_list_shows_the_callers_centres_only(personas, client_for):
    own = make_centre(personas, floor_area="650")
    make_room(personas, own, "多功能活动室", "400")
    make_room(personas, own, "办公室", "50", for_residents=False)
    other = make_centre(personas, "community_b", actor="community_staff_b", name="吉祥社区党群服务中心")
    body = client_for("street_hub").get(reverse("centers:centre_list")).content.decode()
    assert own.name in body and other.name not in body
    assert "多福巷社区" in body and "650" in body
    row = body.split(own.name)[1].split("</tr>")[0]
    assert ">2<" in row  # two rooms
    assert "社区" in row
    district = client_for("district_admin").get(reverse("centers:centre_list")).content.decode()
    assert own.name in district and other.name in district
    assert "新建服务中心" not in district  # the district reads, it does not keep centres


def test_the_list_takes_the_same_number_of_queries_for_more_centres(personas, client_for):
    client = client_for("street_hub")
    make_centre(personas, "community_a")
    make_centre(personas, "street_a", actor="street_hub")  # households summed from its communities
    client.get(reverse("centers:centre_list"))  # warm the policy and calendar caches
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("centers:centre_list"))
    for n, area in enumerate(["community_a", "community_a2", "street_a", "community_a2"]):
        centre = make_centre(personas, area, actor="street_hub", name=f"第{n}中心")
        make_room(personas, centre, "活动室", "100", actor="street_hub")
    with CaptureQueriesContext(connection) as six:
        response = client.get(reverse("centers:centre_list"))
    body = response.content.decode()
    assert all(name in body for name in ["多福巷社区党群服务中心", "东华门街道党群服务中心", "第0中心", "第3中心"])
    assert len(six.captured_queries) == len(two.captured_queries)


def test_creating_a_centre_on_the_page(personas, client_for):
    client = client_for("community_staff")
    page = client.get(reverse("centers:centre_create"))
    assert page.status_code == 200 and "法定节假日" in page.content.decode()
    response = client.post(reverse("centers:centre_create"), {
        "area": personas.areas["community_a"].code, "name": "多福巷社区党群服务中心", "address": "多福巷 1 号",
        "phone": "010-65120000", "floor_area": "700", "description": "", **_hours_post()})
    with scopes_disabled():
        centre = Centre.objects.unscoped().get()
    assert response.status_code == 302 and response["Location"] == reverse("centers:centre_detail", args=[centre.pk])
    assert centre.opening_hours["mon"] == [["08:30", "12:00"], ["13:30", "20:00"]]
    assert centre.opening_hours["holiday"] == [["09:00", "12:00"]] and centre.opening_hours["sun"] == []


@pytest.mark.parametrize("hours, message", [
    ({"hours_mon_1_start": "08:30", "hours_mon_1_end": ""}, "周一第 1 段缺少结束时间。"),
    ({"hours_sun_2_start": "", "hours_sun_2_end": "18:00"}, "周日第 2 段缺少开始时间。"),
    ({"hours_tue_1_start": "20:00", "hours_tue_1_end": "08:00"}, "周二第 1 段的开始时间 20:00 应早于结束时间 08:00。"),
    ({"hours_wed_1_start": "08:00", "hours_wed_1_end": "13:00", "hours_wed_2_start": "12:00",
      "hours_wed_2_end": "18:00"}, "周三的两段开放时间 08:00–13:00 与 12:00–18:00 重叠。"),
    ({"hours_holiday_1_start": "9.30", "hours_holiday_1_end": "12:00"},
     "法定节假日第 1 段的开始时间“9.30”格式不对，应为 HH:MM，如 08:30。"),
])
def test_bad_hours_on_the_page_show_the_message_and_change_nothing(personas, client_for, hours, message):
    response = client_for("community_staff").post(reverse("centers:centre_create"), {
        "area": personas.areas["community_a"].code, "name": "多福巷社区党群服务中心", "address": "多福巷 1 号",
        "floor_area": "700", **hours})
    assert response.status_code == 422
    assert message in response.content.decode()
    with scopes_disabled():
        assert not Centre.objects.unscoped().exists()


def test_editing_a_centre_keeps_its_hours_in_the_form(personas, client_for):
    centre = make_centre(personas)
    client = client_for("community_staff")
    page = client.get(reverse("centers:centre_edit", args=[centre.pk])).content.decode()
    assert 'name="hours_mon_2_end" value="20:00"' in page
    data = {"area": centre.area.code, "name": centre.name, "address": centre.address, "floor_area": "800",
            **_hours_post({**HOURS, "sun": [["09:00", "12:00"]]})}
    assert client.post(reverse("centers:centre_edit", args=[centre.pk]), data).status_code == 302
    centre.refresh_from_db()
    assert centre.opening_hours["sun"] == [["09:00", "12:00"]]


def test_the_centre_page_shows_hours_of_the_coming_days_with_holidays(personas, client_for, monkeypatch):
    travel(monkeypatch, dt.date(2030, 9, 28))  # a Saturday; 1–3 October are the fallback's fixed holidays
    centre = make_centre(personas)
    make_room(personas, centre, "多功能活动室", "120", equipment="投影仪")
    with scopes_disabled():
        centres.service_item_save(actor=personas.community_staff, centre=centre, name="老年人优待证办理")
    body = client_for("community_staff").get(reverse("centers:centre_detail", args=[centre.pk])).content.decode()
    assert "近 14 天开放时间（9月28日—10月11日）" in body
    assert "10月1日（周二·国庆节）" in body and "节假日" in body
    after_holiday = body.split("10月1日（周二·国庆节）")[1].split("</tr>")[0]
    assert "09:00–12:00" in after_holiday and "13:30" not in after_holiday
    assert "9月29日（周日）" in body
    assert "多功能活动室" in body and "投影仪" in body and "老年人优待证办理" in body
    assert "编辑中心信息" in body


def test_rooms_and_service_items_on_the_pages(personas, client_for):
    centre = make_centre(personas)
    client = client_for("street_hub")
    response = client.post(reverse("centers:room_create", args=[centre.pk]), {
        "name": "儿童之家", "floor_area": "80", "capacity": "30", "equipment": "绘本", "for_residents": "on",
        "bookable": "on"})
    assert response.status_code == 302
    with scopes_disabled():
        room = Room.objects.unscoped().get()
    assert (room.name, room.for_residents, room.bookable, room.needs_approval) == ("儿童之家", True, True, False)
    refused = client.post(reverse("centers:room_edit", args=[centre.pk, room.pk]), {
        "name": "儿童之家", "floor_area": "900", "capacity": "30"})
    assert refused.status_code == 422 and "超过了中心建筑面积 800 平方米" in refused.content.decode()
    response = client.post(reverse("centers:service_create", args=[centre.pk]), {"name": "代缴水电费", "order": "1"})
    assert response.status_code == 302
    item = ServiceItem.objects.get()
    edited = client.post(reverse("centers:service_edit", args=[centre.pk, item.pk]), {"name": "代缴水电燃气费"})
    assert edited.status_code == 302
    item.refresh_from_db()
    assert item.name == "代缴水电燃气费"
    deleted = client.post(reverse("centers:service_delete", args=[centre.pk, item.pk]))
    assert deleted.status_code == 302 and not ServiceItem.objects.exists()
    assert "服务事项“代缴水电燃气费”已删除。" in client.get(deleted["Location"]).content.decode()
