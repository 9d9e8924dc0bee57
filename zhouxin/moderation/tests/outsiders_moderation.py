"""Outsider cases for moderation: the queue (内容审核) and the lexicon (敏感词库).

A spam request of 多福巷社区 (东华门街道) is held, and a generic item too.  Anonymous visitors
are sent to sign in; roles without "moderation.review" are refused the queue, and the street
hub of another district cannot even see it (there is none among the personas, so a 西城区
street hub is added); roles without "moderation.lexicon.edit" are refused the lexicon pages.
"""

from django.urls import reverse

from zhouxin.core.choices import Role
from zhouxin.core.models import Grant, User
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import services as dispatch
from zhouxin.moderation import services
from zhouxin.moderation.choices import LexiconCategory
from zhouxin.testing.outsiders import Case

TO_LOGIN = frozenset({302})
FORBIDDEN = frozenset({403})
TITLE = "外人不可见的暂缓诉求"
ITEM_TITLE = "外人不可见的暂缓页面"
NOT_REVIEWERS = ("community_staff", "community_staff_b", "grid_worker", "department_handler", "unit_liaison",
                 "member", "resident", "outsider", "system_admin", "security_admin", "audit_admin")
NOT_LEXICON_EDITORS = ("street_hub", "community_staff", "grid_worker", "department_handler", "unit_liaison",
                       "member", "resident", "outsider", "system_admin", "audit_admin")
OTHER_HUB = "xicheng_hub"


def _other_hub(personas):
    if OTHER_HUB not in personas.users:
        user = User.objects.create_user(username=OTHER_HUB, password="Zhouxin-Test-2026!", full_name="西城街道枢纽")
        Grant.objects.create(user=user, role=Role.STREET_HUB, area=personas.areas["street_x"])
        personas.users[OTHER_HUB] = user
        from django_otp.plugins.otp_totp.models import TOTPDevice

        from zhouxin.testing.personas import TOTP_KEY_HEX
        personas.devices[OTHER_HUB] = TOTPDevice.objects.create(user=user, name="默认", key=TOTP_KEY_HEX,
                                                                 confirmed=True)


def cases(personas):
    _other_hub(personas)
    with scopes_disabled():
        entry = services.lexicon_add(actor=None, term="外人测试违规词", category=LexiconCategory.OTHER)
        request = dispatch.request_intake(actor=personas.users["community_staff"], area=personas.areas["community_a"],
                                          kind="complaint", channel="hotline", title=TITLE,
                                          description="外人测试违规词，加微信了解")
        item = services.hold_item(actor=None, kind="test.page", source_key="outsiders:1",
                                  area=personas.areas["community_a"], text="外人测试违规词", reasons=["测试"],
                                  title=ITEM_TITLE)
    secret = (TITLE, ITEM_TITLE)
    queue_urls = [("moderation:queue", reverse("moderation:queue"), "get", None)]
    for source, pk in (("requests", request.pk), ("items", item.pk)):
        for action, data in (("release", {"note": "越权放行"}), ("reject", {"note": "越权驳回"})):
            url = reverse("moderation:decide", args=[source, pk, action])
            queue_urls += [("moderation:decide", url, "get", None), ("moderation:decide", url, "post", data)]
    lexicon_urls = [
        ("moderation:lexicon", reverse("moderation:lexicon"), "get", None),
        ("moderation:lexicon_add", reverse("moderation:lexicon_add"), "post",
         {"term": "越权添加", "category": "other", "kind": "keyword"}),
        ("moderation:lexicon_import", reverse("moderation:lexicon_import"), "get", None),
        ("moderation:lexicon_import", reverse("moderation:lexicon_import"), "post",
         {"text": "越权导入", "category": "other", "kind": "keyword"}),
        ("moderation:lexicon_test", reverse("moderation:lexicon_test"), "get", None),
        ("moderation:lexicon_test", reverse("moderation:lexicon_test"), "post", {"text": "测试"}),
        ("moderation:lexicon_toggle", reverse("moderation:lexicon_toggle", args=[entry.pk]), "post", None),
        ("moderation:lexicon_delete", reverse("moderation:lexicon_delete", args=[entry.pk]), "get", None),
        ("moderation:lexicon_delete", reverse("moderation:lexicon_delete", args=[entry.pk]), "post", None),
    ]
    out: list[Case] = []
    for urls, refused in ((queue_urls, NOT_REVIEWERS), (lexicon_urls, NOT_LEXICON_EDITORS)):
        for name, url, method, data in urls:
            out.append(Case(name, None, url, TO_LOGIN, method=method, data=data))
            for persona in refused:
                out.append(Case(name, persona, url, FORBIDDEN, method=method, data=data, must_not_contain=secret))
    # A street hub of another district: the queue opens, but shows nothing of 东城区, and a
    # decision on 东城区's content is not found.
    out.append(Case("moderation:queue", OTHER_HUB, reverse("moderation:queue"), frozenset({200}),
                    must_not_contain=secret))
    out.append(Case("moderation:queue", OTHER_HUB, reverse("moderation:queue") + "?source=items",
                    frozenset({200}), must_not_contain=secret))
    for name, url, method, data in queue_urls[1:]:
        out.append(Case(name, OTHER_HUB, url, frozenset({404}), method=method, data=data, must_not_contain=secret))
    return out
