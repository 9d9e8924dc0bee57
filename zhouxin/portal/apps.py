from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "zhouxin.portal"
    label = "portal"
    verbose_name = _("居民网站")

    def ready(self):
        from . import policy  # noqa: F401  (registers "portal.consent" and "portal.account")
