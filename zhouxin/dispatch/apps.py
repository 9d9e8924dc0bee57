from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DispatchConfig(AppConfig):
    name = "zhouxin.dispatch"
    label = "dispatch"
    verbose_name = _("接诉即办")

    def ready(self):
        from zhouxin.core import public_sections

        from . import indicators, policy  # noqa: F401  (policy registers the dispatch rules in the policy store)
        from .public import community_figures

        public_sections.register("dispatch.requests", title=_("接诉即办"), template="dispatch/public/_community.html",
                                 context=community_figures, order=10)
        indicators.register()
