from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CobuildConfig(AppConfig):
    name = "zhouxin.cobuild"
    label = "cobuild"
    verbose_name = _("区域化党建")

    def ready(self):
        from . import policy  # noqa: F401  (registers "cobuild.matching" in the policy store)
