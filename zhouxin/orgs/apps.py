from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "zhouxin.orgs"
    label = "orgs"
    verbose_name = _("区域与组织")

    def ready(self):
        from zhouxin.core import workbench

        from .workbench import workbench_panel

        workbench.register(workbench.Panel(key="orgs.scope", template="orgs/_workbench.html",
                                           context=workbench_panel, permission="orgs.view", order=10))
