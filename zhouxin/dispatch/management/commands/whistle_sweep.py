"""Flag summonses whose report deadline passed without a report, once each (吹哨报到超时).

`python manage.py whistle_sweep` runs one sweep; `--loop SECONDS` keeps sweeping (next to
the task worker, like `audit_seal --loop`).  The SLA sweep loop can call
`zhouxin.dispatch.whistles.whistle_sweep()` in the same round instead.  Two sweepers at
once flag each summons only once: every flag is a conditional UPDATE.
"""

from zhouxin.core.management.sweeper import SweepCommand
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.whistles import whistle_sweep


class Command(SweepCommand):
    help = "标记超过报到时限仍未报到的部门 (flag overdue whistle summonses); --loop SECONDS 常驻运行"

    def sweep(self, now, *, quiet: bool):
        with scopes_disabled():
            result = whistle_sweep(now=now)
        if not quiet or result.flagged:
            self.stdout.write(f"标记超时未报到 {result.flagged} 个 (flagged {result.flagged} overdue summonses)")
