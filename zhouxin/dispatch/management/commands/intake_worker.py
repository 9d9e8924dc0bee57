"""The intake worker of deferred intake (settings.DISPATCH_INTAKE_DEFERRED, docs/deploy.md):
completes the requests intake stored as pending — suggestions, deadlines, routing, the
timeline and the roll-ups — a batch at a time (services.complete_pending_intakes).

`python manage.py intake_worker` completes everything pending and stops; `--loop SECONDS`
keeps doing so, looking again every SECONDS when nothing was pending (started by
scripts/serve.sh; several may run, each takes other rows).  With deferred intake off there
is never anything pending, and the loop costs one indexed probe per round.
"""

from zhouxin.core.management.sweeper import SweepCommand
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.services import INTAKE_BATCH, complete_pending_intakes


class Command(SweepCommand):
    help = "完成延后受理的工单的分派、时限与统计 (intake worker); --loop SECONDS 常驻运行"
    started_message = "受理分派进程已启动，空闲时每 {interval:g} 秒查看一次 (intake worker running every {interval:g}s)"

    def sweep(self, now, *, quiet: bool):
        done = 0
        with scopes_disabled():
            while True:  # drain: a full batch means more may be waiting
                batch = complete_pending_intakes(limit=INTAKE_BATCH)
                done += len(batch)
                if len(batch) < INTAKE_BATCH:
                    break
        if not quiet or done >= INTAKE_BATCH:  # a loop reports bursts only, not every round
            self.stdout.write(f"已完成分派 {done} 张 (completed {done} pending intakes)")
