"""Routine clean-up that no user waits for: finished rate-limit windows and expired sessions.

`python manage.py housekeeping` runs one round; `--loop SECONDS` keeps running next to the
task worker (scripts/serve.sh).  Safe to run from several processes at once: each round
only deletes rows that are already past their expiry."""

from django.contrib.sessions.models import Session
from django.utils import timezone

from zhouxin.core import ratelimit
from zhouxin.core.management.sweeper import SweepCommand


class Command(SweepCommand):
    help = "清理过期的限流计数和会话 (purge finished rate-limit windows and expired sessions); --loop SECONDS 常驻运行"

    def sweep(self, now, *, quiet: bool):
        windows = ratelimit.purge_expired(now=now)
        sessions, _ = Session.objects.filter(expire_date__lt=now or timezone.now()).delete()
        if not quiet or windows or sessions:
            self.stdout.write(f"清理限流计数 {windows} 条、过期会话 {sessions} 个 "
                              f"(purged {windows} rate-limit windows, {sessions} sessions)")
