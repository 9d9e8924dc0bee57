"""Print a request's contact and resolve deadlines (issue 3 item 4), e.g.

    manage.py sla_deadline --kind complaint --urgency normal --at 2026-09-30T17:00
"""

import datetime as dt

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from zhouxin.dispatch import sla
from zhouxin.dispatch.choices import RequestKind, SlaClass, Urgency


def _choices(enum) -> str:
    return ", ".join(f"{value}（{label}）" for value, label in enum.choices)


class Command(BaseCommand):
    help = "按工作日日历计算诉求的联系时限和办结时限 (contact and resolve deadlines of a request)"

    def add_arguments(self, parser):
        parser.add_argument("--kind", required=True, help=f"诉求类型：{', '.join(RequestKind.values)}")
        parser.add_argument("--urgency", default=Urgency.NORMAL, help=f"紧急程度：{', '.join(Urgency.values)}")
        parser.add_argument("--at", required=True, help="受理时间，ISO 格式，如 2026-09-30T17:00（北京时间）")
        parser.add_argument("--sla-class", default="", help=f"目录时限类别（可选）：{', '.join(SlaClass.values)}")

    def handle(self, *args, **options):
        kind, urgency, sla_class = options["kind"], options["urgency"], options["sla_class"] or ""
        if kind not in RequestKind.values:
            raise CommandError(f"诉求类型“{kind}”无效，可选：{_choices(RequestKind)}")
        if urgency not in Urgency.values:
            raise CommandError(f"紧急程度“{urgency}”无效，可选：{_choices(Urgency)}")
        if sla_class and sla_class not in SlaClass.values:
            raise CommandError(f"时限类别“{sla_class}”无效，可选：{_choices(SlaClass)}")
        try:
            received = dt.datetime.fromisoformat(options["at"].strip())
        except ValueError:
            raise CommandError(f"受理时间“{options['at']}”不是有效的 ISO 时间，例如 2026-09-30T17:00。") from None
        if timezone.is_naive(received):
            received = timezone.make_aware(received)
        try:
            plan = sla.plan_deadlines(kind=kind, urgency=urgency, sla_class=sla_class or None, received_at=received)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        d = plan.deadlines

        def show(deadline) -> str:
            mark = "（暂定 provisional）" if deadline.provisional else ""
            return f"{timezone.localtime(deadline.at):%Y-%m-%d %H:%M}{mark}"

        basis = ("目录时限类别" if plan.resolve_basis == "class"
                 else f"{RequestKind(kind).label} {plan.kind_working_days} 个工作日")
        self.stdout.write(f"受理时间 received: {timezone.localtime(received):%Y-%m-%d %H:%M}")
        self.stdout.write(f"联系时限 contact:  {show(d.contact)}")
        self.stdout.write(f"办结时限 resolve:  {show(d.resolve)}（依据：{basis}）")
        self.stdout.write(f"暂定 provisional: {'是 yes' if d.provisional else '否 no'}")
