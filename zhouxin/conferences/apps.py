from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConferencesConfig(AppConfig):
    name = "zhouxin.conferences"
    label = "conferences"
    verbose_name = _("联席会议")

    def ready(self):
        from zhouxin.core import workbench

        from .workbench import workbench_panel

        workbench.register(workbench.Panel(key="conferences.escalations", template="conferences/_workbench.html",
                                           context=workbench_panel, permission="conferences.manage", order=40))
