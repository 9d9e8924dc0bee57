"""python manage.py evaluate_classifier FILE.csv [--split 0.5 [--seed 1]] [--train-on TRAIN.csv]

Prints the top-1 and top-3 accuracy of the learned model, of the keyword baseline and of
their combination (what intake suggests) on a labelled file (columns text,category_code),
then the number of rows and top-1 hits per category.

Without options the stored model is evaluated.  `--split F` trains a throw-away model on
a stratified fraction F of the file and evaluates on the rest (held out); `--train-on`
trains a throw-away model on another labelled file.  Nothing is stored either way.
"""

import unicodedata

from django.core.management.base import BaseCommand, CommandError

from zhouxin.dispatch import classify

LABELS = {"model": "学习模型 (model)", "keywords": "关键词基线 (keywords)", "combined": "组合建议 (combined)"}


def pad(text: str, width: int) -> str:
    """Left-justify to a display width: CJK characters take two columns in a terminal."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)


def percent(hits: int, total: int) -> str:
    return f"{100 * hits / total:5.1f}%" if total else "   —  "


class Command(BaseCommand):
    help = "评估分类建议的 top-1 / top-3 准确率 (evaluate category suggestions on a labelled CSV)"

    def add_arguments(self, parser):
        parser.add_argument("file", metavar="FILE.csv", help="列 text,category_code 的 UTF-8 CSV")
        parser.add_argument("--split", type=float, default=None, metavar="FRACTION",
                            help="按类别分层，用这一比例训练临时模型，其余留作评估 (0 < F < 1)")
        parser.add_argument("--seed", type=int, default=1, help="--split 的随机种子")
        parser.add_argument("--train-on", metavar="TRAIN.csv", default=None,
                            help="用另一个带标注的文件训练临时模型")
        parser.add_argument("--no-per-class", action="store_true", help="不打印每个类别的明细")

    def _read(self, path):
        try:
            rows, skipped = classify.read_labelled_csv(path)
        except classify.LabelledFileError as exc:
            raise CommandError(str(exc)) from None
        for message in skipped:
            self.stderr.write(message)
        return rows

    def handle(self, *args, file, split=None, seed=1, train_on=None, no_per_class=False, **options):
        if split is not None and not 0 < split < 1:
            raise CommandError("--split 必须在 0 和 1 之间 (exclusive)")
        if split is not None and train_on:
            raise CommandError("--split 和 --train-on 只能选一个")
        classify.warm_up()
        rows = self._read(file)
        if not rows:
            raise CommandError("文件中没有可评估的行 (no usable rows)")
        model = classify.STORED_MODEL
        source = "已存储的模型 (stored model)"
        if split is not None or train_on:
            if split is not None:
                train_rows, rows = classify.stratified_split(rows, fraction=split, seed=seed)
                source = f"临时模型：本文件按类别分层 {split:.0%} 训练，其余 {len(rows)} 行留出评估 (seed {seed})"
            else:
                train_rows = self._read(train_on)
                source = f"临时模型：用 {train_on} 的 {len(train_rows)} 行训练"
            if len({code for _, code in train_rows}) < 2:
                raise CommandError("训练数据至少需要两个类别")
            model = classify.train_in_memory(train_rows)
        result = classify.evaluate(rows, model=model)
        out = self.stdout.write
        out(f"评估文件 (file): {file}")
        out(f"评估行数 (rows): {result.total}，类别数 (categories): {len(result.per_class)}")
        if result.model_version is None:
            out("学习模型 (model): 无，只有关键词基线 (none: keyword baseline only)")
        else:
            label = source if result.model_version == 0 else f"{source} 版本 {result.model_version}"
            out(f"学习模型 (model): {label}，训练样本 {result.training_examples} 条")
        out("")
        out(f"{pad('方法 (method)', 26)}{'top-1':>8}{'top-3':>8}")
        for key in ("model", "keywords", "combined"):
            score = result.methods.get(key)
            if score is None:
                out(f"{pad(LABELS[key], 26)}{'—':>8}{'—':>8}")
                continue
            out(f"{pad(LABELS[key], 26)}{percent(score.top1, result.total):>8}{percent(score.top3, result.total):>8}")
        out(f"平均每条用时 (time per text): {result.seconds_per_text * 1000:.2f} ms（三种方法合计）")
        if no_per_class:
            return
        leaves = classify.catalogue().leaves
        out("")
        out("每类 (per class): 编码 名称 行数 top-1 命中 模型/关键词/组合")
        for code, count in sorted(result.per_class.items(), key=lambda it: (-it[1], it[0])):
            hits = "/".join(str(result.methods[k].per_class_top1[code]) if k in result.methods else "—"
                            for k in ("model", "keywords", "combined"))
            out(f"{code} {leaves[code].name} {count} {hits}")
