"""双报到 reminders: members whose registration ends within the rule's remind_days are texted
to renew (once per period), and unregistered Party members of units are texted when the year's
first-registration deadline is near (once a year); see registration.reminders_send.

`python manage.py volunteer_reminders` runs one round; `--loop SECONDS` keeps running, like
conference_sweep.
"""

from zhouxin.core.management.sweeper import SweepCommand
from zhouxin.core.scoping import scopes_disabled
from zhouxin.volunteers.registration import reminders_send


class Command(SweepCommand):
    help = "双报到提醒：报到即将到期的党员提醒续报，截止日前提醒未报到的在职党员（各只提醒一次）; --loop SECONDS 常驻运行"
    started_message = "双报到提醒进程已启动，每 {interval:g} 秒一次 (volunteer reminders running every {interval:g}s)"

    def sweep(self, now, *, quiet: bool):
        with scopes_disabled():
            result = reminders_send(now=now)
        if not quiet or result.renewal or result.deadline:
            self.stdout.write(f"续报提醒 {result.renewal} 条，报到截止提醒 {result.deadline} 条 "
                              f"(renewal {result.renewal}, deadline {result.deadline})")
