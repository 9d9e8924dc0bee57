from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentersConfig(AppConfig):
    name = "zhouxin.centers"
    label = "centers"
    verbose_name = _("党群服务中心")

    def ready(self):
        from . import policy  # noqa: F401  (registers the centre rules in the policy store)
