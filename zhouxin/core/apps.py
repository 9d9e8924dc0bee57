from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "zhouxin.core"
    label = "core"
    verbose_name = _("平台核心")

    def ready(self):
        from . import signals  # noqa: F401
