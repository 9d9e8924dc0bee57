"""A management command that runs one sweep, or keeps sweeping with --loop SECONDS.

Sweepers (SLA clocks, whistle deadlines) run as small loop processes next to the task
worker because django-tasks has no periodic schedule.  Every sweep must be safe to run
from several processes at once (compare-and-set per row).
"""

from __future__ import annotations

import datetime as dt
import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections
from django.utils import timezone


class SweepCommand(BaseCommand):
    """Subclasses implement sweep(now, quiet) and may set started_message."""

    started_message = ""

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", default=None,
                            help="每隔 SECONDS 秒扫描一次，直到被终止 (run as a sweeper process)")
        parser.add_argument("--now", metavar="ISO_DATETIME", default=None,
                            help="按该时刻判断，默认当前时间 (judge as of this time)")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # Each sweeper says what one round does: sweep(self, now, *, quiet).
        if not callable(getattr(cls, "sweep", None)):
            raise TypeError(f"{cls.__name__} must define sweep(now, *, quiet)")

    @staticmethod
    def parse_now(text: str | None) -> dt.datetime | None:
        if text is None:
            return None
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise CommandError(f"--now 不是有效的时间：{text} (not an ISO datetime)") from None
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        return value

    def handle(self, *args, **options):
        now = self.parse_now(options["now"])
        interval = options["loop"]
        if interval is None:
            self.sweep(now, quiet=False)
            return
        if interval <= 0:
            raise CommandError("--loop 需要大于 0 的秒数 (--loop needs a positive number of seconds)")
        stop: list[bool] = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(True))
        if self.started_message:
            self.stdout.write(self.started_message.format(interval=interval))
        while not stop:
            close_old_connections()
            try:
                self.sweep(now, quiet=True)
            except Exception as exc:  # keep running: the database may be restarting
                self.stderr.write(f"扫描失败，稍后重试 (sweep failed, will retry): {exc}")
            deadline = time.monotonic() + interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
