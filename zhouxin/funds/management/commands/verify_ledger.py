"""Verify the funds ledger: every fund's hash chain and balances, from the first entry.

    python manage.py verify_ledger            # all funds
    python manage.py verify_ledger --fund 12  # one fund

Prints the first broken link of each fund that does not verify and exits with status 1;
prints how many funds and entries were checked and exits 0 when everything holds.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import ledger
from zhouxin.funds.models import Fund, LedgerEntry


class Command(BaseCommand):
    help = "Verify the funds ledger's hash chains and balances; name the first broken link."

    def add_arguments(self, parser):
        parser.add_argument("--fund", type=int, help="only this fund (id)")

    def handle(self, *args, **options):
        with scopes_disabled():
            funds = Fund.objects.all()
            if options["fund"]:
                funds = funds.filter(pk=options["fund"])
                if not funds.exists():
                    raise CommandError(_("没有 ID 为 %(id)s 的经费。") % {"id": options["fund"]})
            breaks = ledger.verify(funds)
            if breaks:
                for broken in breaks:
                    self.stderr.write(_("台账断链：%(where)s") % {"where": broken})
                raise CommandError(_("%(count)s 个经费账户的台账未通过校验。") % {"count": len(breaks)}, returncode=1)
            entries = LedgerEntry.objects.filter(fund__in=funds).count()
            self.stdout.write(_("台账校验通过：%(funds)s 个经费账户，%(entries)s 条记录。")
                              % {"funds": funds.count(), "entries": entries})
