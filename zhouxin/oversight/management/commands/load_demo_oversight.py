"""Load the demo district's oversight (督导考评): responsibility lists, key problems and topic meetings,
secretaries' reviews, demonstration sites and cases, and the star ratings of the last six months with
their rectification flags, computed from the demo's own records (idempotent; only where the demo is
enabled)."""

import time

from django.core.management.base import BaseCommand, CommandError

from zhouxin.core.indicators import MONTH, Period
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.demo import DISTRICT_CODE, DemoUnavailable, ensure_demo_available
from zhouxin.orgs.models import Area
from zhouxin.oversight import demo_problems, demo_reviews, ratings
from zhouxin.oversight.models import Rating

MONTHS = 6


class Command(BaseCommand):
    help = "为演示区加载督导考评数据：责任清单、重点难点问题、述职评议、示范点与案例，并评定近 6 个月的星级（可重复执行）" \
           " (load demo oversight data and rate the last 6 months; idempotent)"

    def handle(self, *args, **options):
        started = time.perf_counter()
        try:
            ensure_demo_available()
            with scopes_disabled():
                district = Area.objects.unscoped().filter(code=DISTRICT_CODE, level=AreaLevel.DISTRICT).first()
                if district is None:
                    raise DemoUnavailable("演示区尚未加载，请先运行 load_demo (run load_demo first)")
                problems = demo_problems.load(district)
                reviews = demo_reviews.load(district)
                from django.utils import timezone

                periods = [Period.of(MONTH, timezone.localdate())]
                while len(periods) < MONTHS:
                    periods.append(periods[-1].previous())
                rated = 0
                for period in reversed(periods):
                    # A finished month is rated once (its figures no longer change); the current month
                    # is rated again on every run, "to date".
                    finished = period.end < timezone.localdate()
                    if finished and Rating.objects.filter(district=district, period=period.key).exists():
                        continue
                    ratings.rate(district, period, actor=None)
                    rated += 1
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        created = {**{f"problems_{k}": v for k, v in problems.items()},
                   **{f"reviews_{k}": v for k, v in reviews.items()}}
        summary = "、".join(f"{k} {v}" for k, v in created.items())
        self.stdout.write(f"演示督导考评：{summary}；评定 {rated} 个月 (demo oversight loaded; {rated} months rated) "
                          f"in {time.perf_counter() - started:.1f} s")
