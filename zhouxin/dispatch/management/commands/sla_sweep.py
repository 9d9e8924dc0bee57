"""The SLA sweep (接诉即办时限): yellow warnings at 80 % of the time and escalation of overdue
requests to the street hub, each once per request even with several sweepers running
(compare-and-set per request, services.sla_sweep).  Each round also flags overdue whistle
summonses (whistles.whistle_sweep), so one loop process serves both clocks.

`python manage.py sla_sweep` runs one round; `--loop SECONDS` keeps sweeping (started by
scripts/serve.sh next to the audit sealer; a loop rather than a periodic task because
django-tasks has no schedule).
"""

from zhouxin.core.management.sweeper import SweepCommand
from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.services import sla_sweep
from zhouxin.dispatch.whistles import whistle_sweep


class Command(SweepCommand):
    help = "时限预警并将超时工单上报街道（每张工单只上报一次）(SLA sweep); --loop SECONDS 常驻运行"
    started_message = "时限扫描进程已启动，每 {interval:g} 秒一次 (SLA sweeper running every {interval:g}s)"

    def sweep(self, now, *, quiet: bool):
        with scopes_disabled():
            result = sla_sweep(now=now)
            whistles = whistle_sweep(now=now)
        if not quiet or result.warned or result.escalated or result.contact_overdue or whistles.flagged:
            self.stdout.write(
                f"预警 {len(result.warned)} 张，联系超时 {len(result.contact_overdue)} 张，"
                f"超时上报 {len(result.escalated)} 张，吹哨超时未报到 {whistles.flagged} 个 "
                f"(warned {len(result.warned)}, contact overdue {len(result.contact_overdue)}, "
                f"escalated {len(result.escalated)}, flagged {whistles.flagged} summonses)")
