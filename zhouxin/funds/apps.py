from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    name = "zhouxin.funds"
    label = "funds"
    verbose_name = _("经费保障")

    def ready(self):
        from . import (
            indicators,
            ledger_sql,  # noqa: F401  (registers the append-only tables for flush)
            policy,  # noqa: F401  (registers the funds rules in the policy store)
        )
        self._register_disclosures()
        indicators.register()

    def _register_disclosures(self):
        """三务公开 on the portal: a section of the community page and the pages the integrity
        monitor watches."""
        from zhouxin.core import public_pages, public_sections

        from . import views_public

        public_sections.register("funds.disclosures", title=_("三务公开"), template="funds/public/_section.html",
                                 context=views_public.community_section, order=30)
        public_pages.register("funds.disclosures", views_public.published_pages)
