from django.urls import reverse

from zhouxin.core.navigation import navigation_for, navigation_menu


def labels(menu):
    return [str(entry["label"]) for entry in menu]


def test_menus_group_entries_and_single_entries_stay_links(personas):
    hub_menu = navigation_menu(navigation_for(personas.users["street_hub"]))
    assert labels(hub_menu)[0] == "工作台"
    dispatch = next(e for e in hub_menu if str(e["label"]) == "接诉即办")
    assert [str(i["label"]) for i in dispatch["children"]][:3] == ["工单", "受理登记", "吹哨报到"]
    # The audit admin has one system entry: a plain link, not a menu of one.
    audit_menu = navigation_menu(navigation_for(personas.users["audit_admin"]))
    assert labels(audit_menu) == ["工作台", "审计日志"]
    assert "children" not in audit_menu[1]


def test_the_current_page_marks_its_menu(personas, client_for):
    response = client_for("street_hub").get(reverse("dispatch:queue"))
    html = response.content.decode()
    assert 'class="nav-link dropdown-toggle active"' in html
    assert 'class="dropdown-item active" aria-current="page"' in html


def test_a_plain_link_is_not_rendered_as_a_menu(personas, client_for):
    html = client_for("street_hub").get(reverse("core:home")).content.decode()
    home_link = html[html.index('href="/"'):][:80] if 'href="/"' in html else ""
    assert 'data-bs-toggle="dropdown" aria-expanded="false">工作台' not in html
    # 接诉即办, 区域与组织, 区域化党建, 双报到, 社区工作者, 经费保障, 党群服务中心, 督导考评
    assert html.count('data-bs-toggle="dropdown"') == 8, home_link
