"""A few published notices for the demo district (idempotent; only where the demo is enabled).

Written, submitted and approved through the services by the demo logins (community staff
write, the street hub or the district approves), so each has its content hash and is watched
by the integrity monitor like any other."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import demo as orgs_demo
from zhouxin.orgs.models import Area

from . import services
from .models import Notice

# (area code, author, approver, title, body)
NOTICES = (
    ("110101001001", "community_staff", "street_hub", "关于开展老旧小区加装电梯意向征集的通知",
     "<p>各位居民：</p><p>为改善老旧小区居民出行条件，社区现开展加装电梯意向征集工作。"
     "有意向的单元请于<strong>本月底前</strong>到社区居委会登记，或联系本楼楼门长。</p>"
     "<h3>登记需提供</h3><ul><li>单元全体业主意见汇总表</li><li>房屋产权证明复印件</li></ul>"
     "<p>相关政策可查阅<a href=\"https://www.beijing.gov.cn/\">首都之窗</a>。</p>"),
    ("110101001001", "community_staff", "street_hub", "夏季防汛安全提示",
     "<p>近期本市将进入主汛期，请居民注意：</p><ol><li>暴雨天气尽量减少外出，远离低洼地带和地下空间；</li>"
     "<li>检查自家阳台、窗台物品，防止高空坠物；</li><li>发现积水、树木倒伏请拨打 12345 反映。</li></ol>"
     "<blockquote>社区防汛值班电话：010-65123456（24 小时）</blockquote>"),
    ("110101001", "street_hub", "district_admin", "东华门街道垃圾分类宣传周活动安排",
     "<p>街道将于下周一至周五开展垃圾分类宣传周活动，各社区设置咨询点，现场发放分类指南。</p>"
     "<table><thead><tr><th scope=\"col\">日期</th><th scope=\"col\">地点</th></tr></thead>"
     "<tbody><tr><td>周一</td><td>多福巷社区活动室</td></tr><tr><td>周三</td><td>银闸社区广场</td></tr></tbody></table>"),
    ("110101002002", "community_staff_b", "district_admin", "社区卫生服务站周六义诊通知",
     "<p>本周六上午 8:30—11:30，社区卫生服务站联合区医院在社区广场开展义诊，提供测血压、测血糖和健康咨询。"
     "请携带医保卡，行动不便的老人可提前电话预约上门服务。</p>"),
)


def load_demo_notices() -> int:
    """Publish the demo notices that are not there yet; returns how many were published."""
    orgs_demo.ensure_demo_available()
    users = {u.username: u for u in get_user_model().objects.filter(
        username__in={n[1] for n in NOTICES} | {n[2] for n in NOTICES})}
    created = 0
    with scopes_disabled():
        for code, author, approver, title, body in NOTICES:
            area = Area.objects.filter(code=code).first()
            if area is None or author not in users or approver not in users:
                continue
            if Notice.objects.filter(area=area, title=title).exists():
                continue
            notice = services.notice_create(actor=users[author], area=area, title=title, body=body)
            services.notice_submit(actor=users[author], notice=notice)
            services.notice_approve(actor=users[approver], notice=notice)
            created += 1
    return created
