"""配备情况: each community's norm from its households against the workers in post; shortages stand out."""

from django.urls import reverse

from .roster_helpers import hire


def _body(response) -> str:
    return response.content.decode()


def test_the_street_sees_each_communitys_staffing_and_shortage(personas, client_for):
    # 多福巷社区: 2,450 households → 4 workers; 银闸社区: 1,800 → 3.
    for i in range(4):
        hire(personas, f"多福巷{i}")
    for i in range(2):
        hire(personas, f"银闸{i}", area="community_a2")
    page = _body(client_for("street_hub").get(reverse("workforce:staffing")))
    assert "多福巷社区" in page and "银闸社区" in page and "吉祥社区" not in page
    assert "1 个社区配备不足。" in page and "缺 1 人" in page and "已配齐" in page
    assert page.count("配备不足</span>") == 1


def test_the_shortage_panel_on_the_street_workbench(personas, client_for):
    hire(personas, "多福巷0")
    page = _body(client_for("street_hub").get(reverse("core:home")))
    assert "社区工作者配备不足" in page and "应配 4 人，在岗 1 人" in page
    # Community staff do not keep the roster: no panel, but their own staffing page.
    staff = client_for("community_staff")
    assert "社区工作者配备不足" not in _body(staff.get(reverse("core:home")))
    page = _body(staff.get(reverse("workforce:staffing")))
    assert "多福巷社区" in page and "银闸社区" not in page and "缺 3 人" in page


def test_a_worker_who_left_does_not_count(personas, client_for):
    import datetime as dt

    from zhouxin.core.scoping import scopes_disabled
    from zhouxin.workforce import roster

    workers = [hire(personas, f"银闸{i}", area="community_a2") for i in range(3)]
    hub = client_for("street_hub")
    assert "缺 1 人" not in _body(hub.get(reverse("workforce:staffing")))  # 银闸社区 staffed, 多福巷 short 4
    with scopes_disabled():
        roster.worker_leave(actor=personas.street_hub, worker=workers[0], left_on=dt.date(2025, 1, 31))
    page = _body(hub.get(reverse("workforce:staffing")))
    assert "缺 1 人" in page
