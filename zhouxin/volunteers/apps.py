from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "zhouxin.volunteers"
    label = "volunteers"
    verbose_name = _("双报到与志愿服务")

    def ready(self):
        from . import policy  # noqa: F401  (registers the volunteers rules in the policy store)
