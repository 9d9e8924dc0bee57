from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class VolunteersConfig(AppConfig):
    name = "zhouxin.volunteers"
    label = "volunteers"
    verbose_name = _("双报到与志愿服务")

    def ready(self):
        from . import indicators, policy  # noqa: F401  (policy registers the volunteers rules in the policy store)
        self._register_wishes()
        indicators.register()
        from zhouxin.portal import personal_data as portal_data

        from . import personal_data
        portal_data.register("volunteering", export=personal_data.export, erase=personal_data.erase)

    def _register_wishes(self):
        """Held wish texts and thanks messages in the moderation queue, and the decisions on them."""
        from zhouxin.moderation import registry

        from . import wishes

        registry.register_source(wishes.WishSource())
        registry.on_decision(wishes.HOLD_KIND, wishes.on_wish_decision)
        registry.on_decision(wishes.THANKS_HOLD_KIND, wishes.on_thanks_decision)
