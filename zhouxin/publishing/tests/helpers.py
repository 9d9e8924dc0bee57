from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import services

BODY = ("<h2>停水通知</h2><p>因市政管线改造，<strong>6月3日 9:00—17:00</strong>多福巷1—6号楼停水，请居民提前储水。</p>"
        "<p>详情见<a href=\"https://www.beijing.gov.cn/\">首都之窗</a>。</p>")


def publish(personas, *, title="多福巷社区停水通知", body=BODY, area="community_a", author="community_staff",
            approver="street_hub"):
    with scopes_disabled():
        notice = services.notice_create(actor=personas.users[author], area=personas.areas[area], title=title,
                                        body=body)
        services.notice_submit(actor=personas.users[author], notice=notice)
        services.notice_approve(actor=personas.users[approver], notice=notice)
        notice.refresh_from_db()
    return notice
