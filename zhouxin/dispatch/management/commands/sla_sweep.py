"""The SLA sweep (接诉即办时限): yellow warnings at 80 % of the time and escalation of overdue
requests to the street hub, each once per request even with several sweepers running
(compare-and-set per request, services.sla_sweep).  Each round also flags overdue whistle
summonses (whistles.whistle_sweep), so one loop process serves both clocks.

`python manage.py sla_sweep` runs one round; `--loop SECONDS` keeps sweeping (started by
scripts/serve.sh next to the audit sealer; a loop rather than a periodic task because
django-tasks has no schedule).
"""

import datetime as dt
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.services import sla_sweep
from zhouxin.dispatch.whistles import whistle_sweep


class Command(BaseCommand):
    help = "时限预警并将超时工单上报街道（每张工单只上报一次）(SLA sweep); --loop SECONDS 常驻运行"

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", default=None,
                            help="每隔 SECONDS 秒扫描一次，直到被终止 (run as a sweeper process)")
        parser.add_argument("--now", metavar="ISO_DATETIME", default=None,
                            help="按该时刻判断预警和超时，默认当前时间 (judge as of this time)")

    def _now(self, text):
        if text is None:
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--now 不是有效的时间：{text} (not an ISO datetime)") from None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    def _sweep(self, now, *, quiet: bool):
        with scopes_disabled():
            result = sla_sweep(now=now)
            whistles = whistle_sweep(now=now)
        if not quiet or result.warned or result.escalated or result.contact_overdue or whistles.flagged:
            self.stdout.write(
                f"预警 {len(result.warned)} 张，联系超时 {len(result.contact_overdue)} 张，"
                f"超时上报 {len(result.escalated)} 张，吹哨超时未报到 {whistles.flagged} 个 "
                f"(warned {len(result.warned)}, contact overdue {len(result.contact_overdue)}, "
                f"escalated {len(result.escalated)}, flagged {whistles.flagged} summonses)")

    def handle(self, *args, **options):
        now = self._now(options["now"])
        interval = options["loop"]
        if interval is None:
            self._sweep(now, quiet=False)
            return
        if interval <= 0:
            raise CommandError("--loop 需要大于 0 的秒数 (--loop needs a positive number of seconds)")
        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(True))
        self.stdout.write(f"时限扫描进程已启动，每 {interval:g} 秒一次 (SLA sweeper running every {interval:g}s)")
        while not stop:
            close_old_connections()
            try:
                self._sweep(now, quiet=True)
            except Exception as exc:  # keep running: the database may be restarting
                self.stderr.write(f"扫描失败，稍后重试 (sweep failed, will retry): {exc}")
            deadline = time.monotonic() + interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
