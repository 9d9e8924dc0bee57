from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "zhouxin.publishing"
    label = "publishing"
    verbose_name = _("公告发布")

    def ready(self):
        from zhouxin.core import public_sections

        from . import policy  # noqa: F401  (registers the link allow-list in the policy store)
        from .public import latest_notices

        public_sections.register("publishing.notices", title=_("社区公告"),
                                 template="publishing/public/_section.html", context=latest_notices, order=5)
