"""Re-render every published page in-process and compare (see zhouxin/publishing/integrity.py).

    python manage.py verify_published            one run; exit status 1 on any mismatch
    python manage.py verify_published --json     the findings as JSON on stdout
    python manage.py verify_published --loop 600 keep checking (scripts/serve.sh)
"""

import json

from django.core.management.base import CommandError

from zhouxin.core.management.sweeper import SweepCommand
from zhouxin.core.scoping import scopes_disabled
from zhouxin.publishing import monitor

FILE_LABELS = {"changed": "被改动", "added": "新增", "removed": "被删除"}


class Command(SweepCommand):
    help = ("核查已发布页面：浏览器、百度蜘蛛、谷歌蜘蛛和搜索引擎来路四种访问结果一致，正文与审核时一致，"
            "外链在允许名单内，模板与静态文件与基线一致 (verify published pages); --loop SECONDS 常驻运行")
    started_message = "公开页面核查每 {interval} 秒一次 (verifying published pages every {interval} s)"

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果 (print the findings as JSON)")
        parser.add_argument("--no-portal", action="store_true",
                            help="只核查公告页面，不核查社区公开页面 (notices only)")

    def handle(self, *args, **options):
        self.options = options
        self.last = None
        super().handle(*args, **options)
        if options["loop"] is None and self.last is not None and not self.last.ok:
            raise CommandError("发现不一致的公开页面或文件 (published content does not match)", returncode=1)

    def sweep(self, now, *, quiet: bool):
        with scopes_disabled():
            result = monitor.run(portal=not self.options["no_portal"])
        self.last = result
        if self.options["json"]:
            self.stdout.write(json.dumps(result.as_dict(), ensure_ascii=False, indent=None if quiet else 2))
            return
        bad = [p for p in result.pages if p["result"] != "ok"]
        if result.baseline_recorded:
            self.stdout.write("首次核查：已记录模板与静态文件基线 (first run: file baseline recorded)")
        for kind, label in FILE_LABELS.items():
            for key in getattr(result.files, kind):
                self.stdout.write(f"文件{label} ({kind}): {key}")
        for page in bad:
            state = "已暂停公开 (withheld)" if page["withheld"] else ""
            self.stdout.write(f"不一致 (mismatch) {page['path']} {state}")
            for problem in page["problems"]:
                self.stdout.write(f"  - {problem['message']}")
        if not quiet or bad or result.files.any:
            self.stdout.write(f"核查页面 {len(result.pages)} 个，不一致 {len(bad)} 个，"
                              f"文件改动 {len(result.files.keys)} 个 "
                              f"(checked {len(result.pages)} pages, {len(bad)} mismatched, "
                              f"{len(result.files.keys)} files differ)")
