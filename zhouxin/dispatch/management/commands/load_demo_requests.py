"""A year of demo requests for the demo district (idempotent; only where the demo is enabled)."""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.dispatch import demo
from zhouxin.orgs.demo import DemoUnavailable


class Command(BaseCommand):
    help = ("为演示区生成一年的诉求工单（可重复执行，第二次不再新增）"
            "(generate a year of demo requests for the demo district; idempotent)")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="随机种子 (seed)")
        parser.add_argument("--months", type=int, default=demo.DEFAULT_MONTHS,
                            help="生成最近几个月的工单，含本月 (months up to now, default 12)")
        parser.add_argument("--per-month", type=int, default=demo.DEFAULT_PER_MONTH,
                            help="平均每月工单数 (requests per month on average, default 1500)")

    def handle(self, *args, **options):
        try:
            report = demo.load_demo_requests(seed=options["seed"], months=options["months"],
                                             per_month=options["per_month"])
        except (DemoUnavailable, ValueError) as exc:
            raise CommandError(str(exc)) from None
        if report.already_loaded:
            self.stdout.write("演示工单已加载过，未做任何修改 (demo requests already loaded; nothing written)")
            return
        counts = "，".join(f"{k} {v}" for k, v in report.created.items())
        self.stdout.write(f"演示工单已生成：{counts}（{report.seconds:.1f} 秒） "
                          f"(demo requests loaded in {report.seconds:.1f} s)")
