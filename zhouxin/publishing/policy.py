"""Publishing rules in the policy store: which other sites public pages may link to.

Our own host (ALLOWED_HOSTS) is always allowed; "gov.cn" allows every government site
(www.beijing.gov.cn …).  The list is the security admin's (三员分立): a planted link to a
gambling site is a security incident, not an editorial choice.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import policy
from zhouxin.core.sanitize import own_hosts

HOST_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789.-")


def _validate_links(value: dict) -> None:
    for host in value["allowed_hosts"]:
        text = str(host).strip().lower()
        if not text or set(text) - HOST_CHARS or "." not in text or text.startswith(".") or ".." in text:
            raise ValidationError(_("“%(host)s”不是有效的域名，例如 gov.cn 或 www.people.com.cn。") % {"host": host})


policy.register(
    "publishing.links",
    label=gettext_lazy("公开页面允许链接的网站"),
    default={"allowed_hosts": ["gov.cn"]},
    validate=_validate_links,
    edit_permission="core.security.manage",
    labels={"allowed_hosts": gettext_lazy("允许的域名（含其子域名）")},
)


def allowed_hosts() -> tuple[str, ...]:
    """Hosts public pages may link to or load from: our own and the policy's list."""
    listed = tuple(str(h).strip().lower() for h in policy.get("publishing.links").get("allowed_hosts", []) if h)
    return own_hosts() + listed
