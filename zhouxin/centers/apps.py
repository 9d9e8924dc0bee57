from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CentersConfig(AppConfig):
    name = "zhouxin.centers"
    label = "centers"
    verbose_name = _("党群服务中心")

    def ready(self):
        from . import indicators, policy  # noqa: F401  (policy registers the centre rules in the policy store)
        self._register_public_side()
        indicators.register()

    def _register_public_side(self):
        """Centres and their events on the portal: a section of the community page, the pages the
        integrity monitor watches, and the residents' registrations in their data export."""
        from zhouxin.core import public_pages, public_sections
        from zhouxin.portal import personal_data

        from . import events, views_public

        public_sections.register("centers.centres", title=_("党群服务中心"), template="centers/public/_section.html",
                                 context=views_public.community_section, order=25)
        public_pages.register("centers.centres", views_public.published_pages)
        personal_data.register("centre_events", export=events.personal_data_export, erase=events.personal_data_erase)
