"""Flag summonses whose report deadline passed without a report, once each (吹哨报到超时).

`python manage.py whistle_sweep` runs one sweep; `--loop SECONDS` keeps sweeping (next to
the task worker, like `audit_seal --loop`).  The SLA sweep loop can call
`zhouxin.dispatch.whistles.whistle_sweep()` in the same round instead.  Two sweepers at
once flag each summons only once: every flag is a conditional UPDATE.
"""

import datetime as dt
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.whistles import whistle_sweep


class Command(BaseCommand):
    help = "标记超过报到时限仍未报到的部门 (flag overdue whistle summonses); --loop SECONDS 常驻运行"

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", default=None,
                            help="每隔 SECONDS 秒扫描一次，直到被终止 (run as a sweeper process)")
        parser.add_argument("--now", metavar="ISO_DATETIME", default=None,
                            help="按该时刻判断是否超时，默认当前时间 (judge overdue as of this time)")

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

    def _sweep(self, now):
        with scopes_disabled():
            result = whistle_sweep(now=now)
        self.stdout.write(f"标记超时未报到 {result.flagged} 个 (flagged {result.flagged} overdue summonses)")

    def handle(self, *args, **options):
        now = self._now(options["now"])
        interval = options["loop"]
        if interval is None:
            self._sweep(now)
            return
        if interval <= 0:
            raise CommandError("--loop 需要大于 0 的秒数 (--loop needs a positive number of seconds)")
        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(True))
        while not stop:
            close_old_connections()
            try:
                self._sweep(now)
            except Exception as exc:  # keep running: the database may be restarting
                self.stderr.write(f"扫描失败，稍后重试 (sweep failed, will retry): {exc}")
            deadline = time.monotonic() + interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
