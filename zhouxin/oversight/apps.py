from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OversightConfig(AppConfig):
    name = "zhouxin.oversight"
    label = "oversight"
    verbose_name = _("督导考评")

    def ready(self):
        from . import policy  # noqa: F401  (registers the oversight rules in the policy store)
