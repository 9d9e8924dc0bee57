"""Portal rules in the policy store: the consent text residents accept, with its version."""

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
