from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FundsConfig(AppConfig):
    name = "zhouxin.funds"
    label = "funds"
    verbose_name = _("经费保障")

    def ready(self):
        from . import (
            ledger_sql,  # noqa: F401  (registers the append-only tables for flush)
            policy,  # noqa: F401  (registers the funds rules in the policy store)
        )
