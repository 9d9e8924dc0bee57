"""Verify the disclosures (三务公开): every community's chain of published items, from the first.

    python manage.py verify_disclosures                          # every community with disclosures
    python manage.py verify_disclosures --community 110101001001  # one community

For each item the content is hashed again (canonical JSON, SHA-256) and compared with its
fingerprint, and its link with the previous item is recomputed.  Prints the first broken item
of each community whose chain does not hold (community, seq, title, id) and exits with status
1; prints how many communities and items were checked and exits 0 when everything holds.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhouxin.core.scoping import scopes_disabled
from zhouxin.funds import disclosures
from zhouxin.funds.models import Disclosure
from zhouxin.orgs.models import Area


class Command(BaseCommand):
    help = "Verify the disclosures' content hashes and per-community chains; name the first broken item."

    def add_arguments(self, parser):
        parser.add_argument("--community", help="only this community (area code)")

    def handle(self, *args, **options):
        with scopes_disabled():
            communities = Area.objects.unscoped().filter(
                pk__in=Disclosure.objects.unscoped().values("community_id")).order_by("code")
            if options["community"]:
                communities = Area.objects.unscoped().filter(code=options["community"])
                if not communities.exists():
                    raise CommandError(_("没有代码为 %(code)s 的社区。") % {"code": options["community"]})
            breaks = disclosures.verify_all(communities)
            if breaks:
                for broken in breaks:
                    self.stderr.write(_("公开链断开：%(where)s") % {"where": broken})
                raise CommandError(_("%(count)s 个社区的三务公开未通过校验。") % {"count": len(breaks)}, returncode=1)
            items = Disclosure.objects.unscoped().filter(community__in=communities).count()
            self.stdout.write(_("三务公开校验通过：%(communities)s 个社区，%(items)s 条公开。")
                              % {"communities": communities.count(), "items": items})
