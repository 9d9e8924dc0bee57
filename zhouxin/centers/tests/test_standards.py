"""The standards check (党群服务中心建设标准): each rule at its boundary, with the rule and the figures
in the message; households unknown; the rule of the centre's city; the check on the pages."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from zhouxin.centers import centres
from zhouxin.core import policy
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Area

from .helpers_centres import D, make_centre, make_room


def _set_households(personas, key, value):
    area = personas.areas[key]
    with scopes_disabled():
        Area.objects.unscoped().filter(pk=area.pk).update(households=value)
    area.refresh_from_db()


def _finding(centre, rule):
    with scopes_disabled():
        found = [f for f in centres.standards_check(centre) if f.rule == rule]
    assert len(found) == 1
    return found[0]


# --- (1) floor area per 100 households ----------------------------------------------------------

def test_area_per_households_passes_at_exactly_the_required_area(personas):
    # 多福巷社区: 2,450 households × 30 m² per 100 = 735 m².
    finding = _finding(make_centre(personas, floor_area="735"), "area_per_100_households")
    assert finding.ok is True
    assert finding.rule_label == "党群服务中心建设标准" and finding.label == "每百户不少于（平方米）"
    assert finding.figures == "建筑面积 735 平方米，按 2,450 户每百户 30 平方米应不少于 735 平方米"
    assert finding.message.startswith("党群服务中心建设标准“每百户不少于（平方米）”：建筑面积 735 平方米")
    assert finding.message.endswith("达标。")


def test_area_per_households_fails_one_hundredth_below_with_the_shortfall(personas):
    finding = _finding(make_centre(personas, floor_area="734.99"), "area_per_100_households")
    assert finding.ok is False
    assert finding.figures == ("建筑面积 734.99 平方米，按 2,450 户每百户 30 平方米应不少于 735 平方米，"
                               "尚差 0.01 平方米")
    assert finding.message.endswith("不达标。")


def test_the_example_of_the_brief_reads_as_written(personas):
    _set_households(personas, "community_a", 2300)
    finding = _finding(make_centre(personas, floor_area="420"), "area_per_100_households")
    assert finding.ok is False
    assert "建筑面积 420 平方米，按 2,300 户每百户 30 平方米应不少于 690 平方米" in finding.message
    assert "尚差 270 平方米" in finding.message


def test_the_per_household_norm_is_for_community_centres_a_street_centre_meets_its_minimum(personas):
    """每百户 30 平方米 is the norm of a community's service facilities; a street centre serves
    communities that each have their own and is held to the street minimum (1,000 m²) instead."""
    _set_households(personas, "street_a", 29000)
    centre = make_centre(personas, "street_a", actor="street_hub", floor_area="1275")
    with scopes_disabled():
        findings = {f.rule: f for f in centres.standards_check(centre)}
    assert "area_per_100_households" not in findings
    assert findings["minimum_area_street"].ok is True
    assert "1,275" in findings["minimum_area_street"].figures


# --- households unknown ---------------------------------------------------------------------------

def test_a_community_with_unknown_households_says_so_instead_of_passing(personas):
    _set_households(personas, "community_a", None)
    finding = _finding(make_centre(personas, floor_area="5000"), "area_per_100_households")
    assert finding.ok is None
    assert "户数未知（多福巷社区未登记户数）" in finding.message
    assert "无法按每百户 30 平方米核对建筑面积 5,000 平方米" in finding.message
    assert finding.message.endswith("无法判断。")


# --- (2) residents' share of the floor -------------------------------------------------------------

def test_residents_share_passes_at_exactly_the_share(personas):
    centre = make_centre(personas, floor_area="1000")
    make_room(personas, centre, "多功能活动室", "400")
    make_room(personas, centre, "儿童之家", "200")
    make_room(personas, centre, "办公室", "150", for_residents=False)  # office space does not count
    finding = _finding(centre, "resident_share_percent")
    assert finding.ok is True
    assert finding.label == "居民活动用房不低于建筑面积的（%）"
    assert finding.figures == "居民活动用房 600 平方米，占建筑面积 1,000 平方米的 60.0%，应不低于 60%（600 平方米）"


def test_residents_share_fails_just_below_and_the_share_is_not_rounded_up(personas):
    centre = make_centre(personas, floor_area="1000")
    make_room(personas, centre, "多功能活动室", "599.99")
    finding = _finding(centre, "resident_share_percent")
    assert finding.ok is False
    # 59.999 % is shown as 59.9 %, never as a "60.0 %" that fails.
    assert finding.figures == "居民活动用房 599.99 平方米，占建筑面积 1,000 平方米的 59.9%，应不低于 60%（600 平方米）"
    assert "不达标" in finding.message


# --- (3) the minimum for the level ------------------------------------------------------------------

@pytest.mark.parametrize("area, actor, level_label, minimum", [
    ("community_a2", "street_hub", "社区中心", "300"),
    ("street_a", "street_hub", "街道中心", "1000"),
])
def test_minimum_area_for_the_level_at_its_boundary(personas, area, actor, level_label, minimum):
    at = make_centre(personas, area, actor=actor, floor_area=minimum, name="达标中心")
    below = make_centre(personas, area, actor=actor, floor_area=str(D(minimum) - D("0.01")), name="差一点中心")
    rule = f"minimum_area_{personas.areas[area].level}"
    ok, short = _finding(at, rule), _finding(below, rule)
    assert ok.ok is True and short.ok is False
    shown = centres.num(D(minimum))
    assert ok.figures == f"建筑面积 {shown} 平方米，{level_label}应不少于 {shown} 平方米"
    assert short.figures == (f"建筑面积 {centres.num(D(minimum) - D('0.01'))} 平方米，{level_label}应不少于 {shown} 平方米，"
                             "尚差 0.01 平方米")
    assert short.message.startswith("党群服务中心建设标准“")


# --- the rule of the centre's city, on the day asked -------------------------------------------------

def test_the_city_rule_in_force_is_used(personas):
    centre = make_centre(personas, floor_area="735")
    assert _finding(centre, "area_per_100_households").ok is True
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    with scopes_disabled():
        policy.policy_set(actor=personas.district_admin, key="centers.standards",
                          value={"area_per_100_households": "40"}, effective_from=tomorrow,
                          city=personas.areas["city"])
        today_finding = [f for f in centres.standards_check(centre) if f.rule == "area_per_100_households"][0]
        later = [f for f in centres.standards_check(centre, on=tomorrow) if f.rule == "area_per_100_households"][0]
    assert today_finding.ok is True
    assert later.ok is False and "每百户 40 平方米应不少于 980 平方米" in later.figures


# --- on the pages ----------------------------------------------------------------------------------

def test_a_centre_below_the_norm_is_flagged_with_the_rule_and_figures_on_its_page(personas, client_for):
    centre = make_centre(personas, floor_area="420")
    make_room(personas, centre, "多功能活动室", "300")
    page = client_for("community_staff").get(reverse("centers:centre_detail", args=[centre.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "建设标准核对" in body and "1 项不达标" in body
    assert "党群服务中心建设标准 · 每百户不少于（平方米）" in body
    assert "建筑面积 420 平方米，按 2,450 户每百户 30 平方米应不少于 735 平方米，尚差 315 平方米" in body
    assert "建筑面积 420 平方米，社区中心应不少于 300 平方米" in body  # the one it meets is shown too
    listing = client_for("street_hub").get(reverse("centers:centre_list")).content.decode()
    assert centre.name in listing and "1 项不达标" in listing


def test_a_centre_meeting_every_rule_shows_it_meets_the_standard(personas, client_for):
    centre = make_centre(personas, floor_area="800")
    make_room(personas, centre, "多功能活动室", "500")
    body = client_for("community_staff").get(reverse("centers:centre_list")).content.decode()
    assert centre.name in body and "达标" in body and "不达标" not in body
