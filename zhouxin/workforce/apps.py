from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "zhouxin.workforce"
    label = "workforce"
    verbose_name = _("社区工作者职业体系")

    def ready(self):
        from . import policy  # noqa: F401  (registers the pay policy and its presets in the policy store)
