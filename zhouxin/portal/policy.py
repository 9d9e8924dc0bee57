"""Portal rules in the policy store: the notices residents accept (for a request, for an
account), each with its version."""

from django.utils.translation import gettext_lazy

from zhouxin.core import policy

policy.register(
    "portal.consent",
    label=gettext_lazy("居民网站个人信息处理告知"),
    default={
        "version": "2026-11",
        "text": ("为受理和办理您的诉求，我们将收集您填写的联系人、联系电话、地址和照片，仅用于诉求的受理、"
                 "转办、回访和依法监督，按照《个人信息保护法》的要求加密保存，不向无关方提供。"),
    },
)

policy.register(
    "portal.account",
    label=gettext_lazy("居民账号个人信息处理告知"),
    default={
        "version": "2026-11",
        "text": ("开通居民账号时，我们保存您的手机号（加密保存），用于短信验证码登录，并据此列出联系电话为该手机号的诉求。"
                 "您可以随时导出您的个人信息、更正未办结诉求的联系方式，或删除账号及诉求中的个人信息；"
                 "删除后，诉求记录依据《个人信息保护法》第十三条第一款第三项（履行法定职责）保留，但不再包含您的个人信息。"),
    },
)
