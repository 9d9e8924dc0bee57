"""Moderation rules in the policy store: which link targets are allowed in user text."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy

from .normalise import normalise


def _validate_links(value: dict) -> None:
    if int(value["max_links"]) < 1:
        raise ValidationError(_("外部链接上限至少为 1。"))
    if int(value["short_text_chars"]) < 0:
        raise ValidationError(_("短文本字数不能为负数。"))
    for domain in value["allowed_domains"]:
        text = normalise(str(domain)).strip(".")
        if not text or " " in text or "." not in text:
            raise ValidationError(_("“%(d)s”不是域名（例如 gov.cn、beijing.gov.cn）。") % {"d": domain})


# Government sites (gov.cn and every subdomain) and the central news sites are always fine;
# links elsewhere in a short text, or many links anywhere, are held for review.
policy.register(
    "moderation.links",
    label=gettext_lazy("内容审核：外部链接"),
    default={
        "allowed_domains": ["gov.cn", "edu.cn", "people.com.cn", "xinhuanet.com", "news.cn", "cctv.com",
                            "mp.weixin.qq.com"],
        "max_links": 3,
        "short_text_chars": 300,
    },
    labels={
        "allowed_domains": gettext_lazy("允许的域名（含其子域名）"),
        "max_links": gettext_lazy("外部链接数达到此数即暂缓审核"),
        "short_text_chars": gettext_lazy("不超过此字数的短文本含任何外部链接即暂缓审核"),
    },
    validate=_validate_links,
)
