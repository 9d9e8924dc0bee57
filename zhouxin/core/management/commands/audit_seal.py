"""Link pending audit entries into the chain, once or as a small sealer process (--loop SECONDS).

Every audited write already tries to seal right after it commits; an entry
whose writer committed while another sealer held the lock waits for the next
write.  `make run` starts `audit_seal --loop 5` next to the task worker so an
idle system seals those within seconds.  A loop process rather than a task:
django-tasks has no periodic schedule, and a self-re-enqueuing task would stop
for good the first time the worker died between two runs.
"""

import signal
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from zhouxin.core import audit


class Command(BaseCommand):
    help = "封存待封存的审计记录 (seal pending audit entries); --loop SECONDS 作为常驻封存进程运行"

    def add_arguments(self, parser):
        parser.add_argument("--loop", type=float, metavar="SECONDS", default=None,
                            help="每隔 SECONDS 秒封存一次，直到被终止 (run as a sealer process)")
        parser.add_argument("--sweep-every", type=int, default=12, metavar="N",
                            help="循环时每 N 轮扫描一次最近两天内遗漏的记录 (default 12)")

    def handle(self, *args, **options):
        interval = options["loop"]
        if interval is None:
            sealed = audit.seal_all(scope="all")
            self.stdout.write(f"封存 {sealed} 条审计记录 (sealed {sealed} entries)")
            return
        if interval <= 0:
            raise CommandError("--loop 需要大于 0 的秒数 (--loop needs a positive number of seconds)")
        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(True))
        self.stdout.write(f"审计封存进程已启动，每 {interval:g} 秒一次 (audit sealer running every {interval:g}s)")
        rounds = 0
        while not stop:
            close_old_connections()
            try:
                # The first round and every N-th look further back for stragglers.
                scope = "sweep" if rounds % max(1, options["sweep_every"]) == 0 else "recent"
                sealed = audit.seal_all(scope=scope)
                if sealed:
                    self.stdout.write(f"封存 {sealed} 条 (sealed {sealed})")
            except Exception as exc:  # keep running: the database may be restarting
                self.stderr.write(f"封存失败，稍后重试 (sealing failed, will retry): {exc}")
            rounds += 1
            deadline = time.monotonic() + interval
            while not stop and time.monotonic() < deadline:
                time.sleep(min(0.2, interval))
