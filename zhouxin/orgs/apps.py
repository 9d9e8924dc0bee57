from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "zhouxin.orgs"
    label = "orgs"
    verbose_name = _("区域与组织")
