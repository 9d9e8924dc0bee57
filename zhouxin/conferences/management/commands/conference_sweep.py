"""The joint conference sweep: action items past their due date are marked overdue and
reported to the street hub, each once even with several sweepers running (compare-and-set per
item, services.conference_sweep).

`python manage.py conference_sweep` runs one round; `--loop SECONDS` keeps sweeping, like
sla_sweep.
"""

from zhouxin.conferences.services import conference_sweep
from zhouxin.core.management.sweeper import SweepCommand
from zhouxin.core.scoping import scopes_disabled


class Command(SweepCommand):
    help = "将逾期的联席会议督办事项上报街道（每项只上报一次）; --loop SECONDS 常驻运行"
    started_message = "联席会议督办扫描进程已启动，每 {interval:g} 秒一次 (conference sweeper running every {interval:g}s)"

    def sweep(self, now, *, quiet: bool):
        with scopes_disabled():
            result = conference_sweep(now=now)
        if not quiet or result.escalated:
            self.stdout.write(f"逾期上报 {len(result.escalated)} 项 (escalated {len(result.escalated)} action items)")
