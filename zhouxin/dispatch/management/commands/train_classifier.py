"""python manage.py train_classifier [--csv FILE.csv] [--enqueue]

Retrains the category suggestion model on the dispatchers' confirmed categories and
stores it as a new version (every process picks it up within seconds).  `--csv` trains
on a labelled file (columns text,category_code) instead; `--enqueue` leaves the work to
the task worker (task `retrain_classifier`).
"""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.dispatch import classify


class Command(BaseCommand):
    help = "训练分类建议模型 (retrain the category suggestion model)"

    def add_arguments(self, parser):
        parser.add_argument("--csv", metavar="FILE", default=None,
                            help="用带标注的 CSV（text,category_code）训练，而不是已确认类别的工单")
        parser.add_argument("--enqueue", action="store_true",
                            help="交给后台任务执行 (enqueue task retrain_classifier)")

    def handle(self, *args, csv=None, enqueue=False, **options):
        if enqueue:
            if csv:
                raise CommandError("--enqueue 不能和 --csv 一起使用 (the task trains on confirmed requests)")
            from zhouxin.dispatch.tasks_classifier import retrain_classifier

            result = retrain_classifier.enqueue()
            self.stdout.write(f"已加入任务队列 (enqueued): {result.id}")
            return
        examples = None
        if csv:
            try:
                examples, skipped = classify.read_labelled_csv(csv)
            except classify.LabelledFileError as exc:
                raise CommandError(str(exc)) from None
            for message in skipped:
                self.stderr.write(message)
        result = classify.train(examples)
        if not result.trained:
            raise CommandError(f"未训练 (not trained): {result.message}")
        self.stdout.write(f"已训练 (trained) {result.message}")
