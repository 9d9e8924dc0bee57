from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CobuildConfig(AppConfig):
    name = "zhouxin.cobuild"
    label = "cobuild"
    verbose_name = _("区域化党建")

    def ready(self):
        from . import indicators, policy  # noqa: F401  (policy registers "cobuild.matching" in the policy store)
        self._register_public_side()
        indicators.register()

    def _register_public_side(self):
        """Published projects: a section of the community page, pages the integrity monitor
        watches, held comments in the moderation queue, and figures kept right on deletion."""
        from django.db.models.signals import post_delete

        from zhouxin.core import public_pages, public_sections
        from zhouxin.moderation import registry

        from . import ratings
        from .models import Rating

        public_sections.register("cobuild.projects", title=_("共建项目"), template="cobuild/public/_section.html",
                                 context=ratings.community_section, order=20)
        public_pages.register("cobuild.projects", ratings.published_project_pages)
        registry.register_source(ratings.RatingSource())
        registry.on_decision(ratings.HOLD_KIND, ratings.on_moderation_decision)
        post_delete.connect(ratings.rating_deleted, sender=Rating, dispatch_uid="cobuild.rating_deleted")
        from zhouxin.portal import personal_data

        personal_data.register("project_ratings", export=ratings.personal_data_export,
                               erase=ratings.personal_data_erase)
