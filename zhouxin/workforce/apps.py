from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkforceConfig(AppConfig):
    name = "zhouxin.workforce"
    label = "workforce"
    verbose_name = _("社区工作者职业体系")

    def ready(self):
        from . import indicators, policy  # noqa: F401  (policy registers the pay policy and its presets)
        self._register_my_pay_panel()
        self._register_staffing_panel()
        indicators.register()

    def _register_staffing_panel(self):
        """配备不足: communities short of workers on the street's (or district's) workbench."""
        from zhouxin.core import workbench

        from .views_roster import workbench_panel

        workbench.register(workbench.Panel(key="workforce.staffing", template="workforce/roster/_workbench.html",
                                           context=workbench_panel, permission="workforce.roster", order=45))

    def _register_my_pay_panel(self):
        """我的工资 on the workbench of a user who is a registered worker (no permission: their own pay)."""
        from zhouxin.core import workbench

        from .views_payroll import my_pay_panel

        workbench.register(workbench.Panel(key="workforce.my_pay", template="workforce/payroll/_workbench.html",
                                           context=my_pay_panel, permission=None, order=5))
