from django.apps import AppConfig, apps
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "zhouxin.moderation"
    label = "moderation"
    verbose_name = _("内容审核")

    def ready(self):
        from . import (
            policy,  # noqa: F401  (registers "moderation.links" in the policy store)
            registry,
            screen,
            sources,
        )

        registry.register_source(sources.ItemSource())
        if apps.is_installed("zhouxin.dispatch"):
            from zhouxin.dispatch import screening

            screening.register(screen.intake_screen)
            registry.register_source(sources.DispatchSource())
