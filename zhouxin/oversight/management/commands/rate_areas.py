"""Rate a district's communities and streets (星级评定) and recompute the rectification flags.

    python manage.py rate_areas --district 110101 --period 2026-10   # one month (or 2026-Q3, 2026)
    python manage.py rate_areas --district 110101 --months 6         # the last 6 months, this one included
    python manage.py rate_areas --district 110101 --months 3 --period 2026-10   # 2026-08 … 2026-10

Runs as the system (audit actor "system"), one audit entry per period rated.  The current period
is rated with the data so far; a period that has not started is refused.
"""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhouxin.core.indicators import MONTH, Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.oversight import ratings


class Command(BaseCommand):
    help = "星级评定：按区评定社区和街道并更新整改名单 (rate a district's communities and streets)"

    def add_arguments(self, parser):
        parser.add_argument("--district", required=True, help="区的区划代码 (district code), e.g. 110101")
        parser.add_argument("--period", help="统计期 (period): 2026-10, 2026-Q3 or 2026; default this month")
        parser.add_argument("--months", type=int, help="评定最近 N 个月 (rate the last N months, up to --period)")

    def handle(self, *args, district, period=None, months=None, **options):
        try:
            last = Period.parse(period) if period else Period.of(MONTH, timezone.localdate())
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        if months is not None:
            if not 1 <= months <= 120:
                raise CommandError("--months 应为 1 到 120 (--months must be 1 to 120)")
            if last.kind != MONTH:
                raise CommandError("--months 只能和月份统计期一起使用 (--months needs a month as --period)")
            periods = [last]
            while len(periods) < months:
                periods.append(periods[-1].previous())
            periods.reverse()
        else:
            periods = [last]
        with scopes_disabled():
            area = Area.objects.unscoped().filter(code=district, level=AreaLevel.DISTRICT).first()
            if area is None:
                raise CommandError(f"没有代码为 {district} 的区 (no district with code {district})")
            for one in periods:
                try:
                    result = ratings.rate(area, one, actor=None)
                except ValidationError as exc:
                    raise CommandError(" ".join(exc.messages)) from None
                self.stdout.write(
                    f"{area.name} {one.key}: 社区 {result.communities} 个、街道 {result.streets} 个，"
                    f"有得分 {result.scored} 个，列入整改 {result.flagged} 个 (rated {result.communities} communities, "
                    f"{result.streets} streets; {result.scored} scored, {result.flagged} flagged)")
