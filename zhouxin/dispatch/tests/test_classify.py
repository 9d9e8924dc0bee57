"""Category suggestions: keyword baseline, learned model, storage and reload, commands.

Accuracy is measured (manage.py evaluate_classifier, docs/performance.md), not asserted:
these tests check the machinery on texts that are clearly separable.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import math
import random

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import classify
from zhouxin.dispatch.choices import Channel, RequestKind
from zhouxin.dispatch.models import Category
from zhouxin.dispatch.services import request_intake


@pytest.fixture(autouse=True)
def model_dir(settings, tmp_path, monkeypatch):
    """Every test gets its own model directory and a process cache that checks it on each call."""
    settings.VAR_DIR = tmp_path
    monkeypatch.setattr(classify, "MODEL_CHECK_SECONDS", 0)
    classify.reset_cache()
    yield tmp_path / "models"
    classify.reset_cache()


# Three classes whose texts share no keyword of the test catalogue: only a learned model
# can tell them apart.  (施工噪声's keywords are 施工 噪音 噪声 夜间 扰民; 停水's are 停水 没水
# 水压 自来水; 楼道卫生's are 楼道 垃圾 堆放 卫生 清扫.)
SEPARABLE = {
    "080101": ["打桩机{0}点还在轰隆隆地响，窗户都在震", "工地的搅拌车{0}点还在轰鸣，孩子被吵醒了",
               "打桩的声音{0}点了还不停，整栋楼都睡不着", "挖掘机凌晨{0}点还在作业，轰隆隆的"],
    "120101": ["水龙头{0}点开始一滴都不出来了，做饭都不行", "早上{0}点起来水龙头拧开什么都没有",
               "家里水龙头从{0}点起就断流了，马桶也冲不了", "{0}点以后水龙头干了，没法洗漱"],
    "040102": ["单元门口的烟头和纸屑{0}天没人扫了", "楼梯台阶上全是灰和狗屎，{0}天了保洁没来",
               "扶手上的灰积了{0}天，台阶上还有烂菜叶", "台阶上的纸屑烟头{0}天都没人打扫"],
}


def synthetic_examples(repeat: int = 6) -> list[tuple[str, str]]:
    return [(template.format(n), code)
            for code, templates in SEPARABLE.items() for template in templates for n in range(1, repeat + 1)]


def assert_well_formed(suggestions, top=3):
    assert len(suggestions) <= top
    assert all(0 < s.confidence <= 1 for s in suggestions)
    assert sum(s.confidence for s in suggestions) <= 1.0 + 1e-6
    confidences = [s.confidence for s in suggestions]
    assert confidences == sorted(confidences, reverse=True)


# --- Keyword baseline (cold start) -------------------------------------------------------

def test_keyword_baseline_suggests_from_the_catalogue_without_any_model(dispatch_world):
    suggestions = classify.suggest("3号楼电梯又停运了，有老人被困在里面，物业说故障要等配件")
    assert suggestions[0].code == "040101"
    assert suggestions[0].name == "电梯故障"
    assert suggestions[0].category_id == dispatch_world.categories["040101"].pk
    assert_well_formed(suggestions)
    assert classify.current_model() is None

    noise = classify.suggest("楼下工地夜间施工，噪音太大了")
    assert noise[0].code == "080101"
    assert_well_formed(noise)


def test_only_active_leaves_are_suggested(dispatch_world):
    text = "小区停水了，自来水一滴都没有，楼道里垃圾也没人清扫"
    codes = [s.code for s in classify.suggest(text, top=5)]
    assert set(codes) >= {"120101", "040102"}
    assert all(len(code) == 6 for code in codes)  # never a branch such as 12 or 1201

    with scopes_disabled():
        Category.objects.filter(code="120101").update(is_active=False)
        Category.objects.filter(code="0401").update(is_active=False)  # hides its leaves too
    classify.invalidate_catalogue()
    codes = [s.code for s in classify.suggest(text, top=5)]
    assert "120101" not in codes and "040102" not in codes and "040101" not in codes


def test_top_limits_the_number_of_suggestions(dispatch_world):
    text = "电梯故障，楼道垃圾堆放，停水，夜间施工噪声，私搭乱建"
    assert len(classify.suggest(text, top=2)) == 2
    assert classify.suggest(text, top=0) == []
    assert_well_formed(classify.suggest(text, top=5), top=5)


def test_the_keyword_automaton_scores_exactly_as_trying_every_term_in_turn(dispatch_world):
    """keyword_scores finds the candidate terms with one automaton pass; the scores must be
    those of the plain rule: every term in the catalogue's order (longest first), counted in
    what the longer terms before it left.  "私搭乱建" must not also count as "乱建"."""
    cat = classify.catalogue()

    def every_term_in_turn(text):
        remaining = classify.normalise(text)
        scores = {}
        for term, weights in cat.terms:
            if term in remaining:
                hits = remaining.count(term)
                for code, weight in weights:
                    scores[code] = scores.get(code, 0.0) + weight * (1 + math.log(hits))
                remaining = remaining.replace(term, "\x00")
        total = sum(scores.values())
        return {code: score / (total + 1.0) for code, score in scores.items()}

    rng = random.Random(11)
    words = [term for term, _weights in cat.terms]
    texts = ["私搭乱建", "乱建乱建私搭乱建", "电梯故障，楼道垃圾堆放，停水，夜间施工噪声，私搭乱建", "", "没有关键词的话"]
    texts += ["，".join(rng.choice(words) + rng.choice(["", "了", "又"]) for _ in range(rng.randint(1, 8)))
              for _ in range(300)]
    matched = 0
    for text in texts:
        expected = every_term_in_turn(text)
        assert classify.keyword_scores(text, cat) == pytest.approx(expected), text
        matched += bool(expected)
    assert matched > 290


# --- Never raises ---------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "", "   ", None, 12345, "。。。！！？？", "\u200b\u200d\ufeff", "🚧🚧🔥" * 50, "x" * 200_000,
    "电梯" * 100_000, "\x00\x01\x02", "<script>alert(1)</script>", "ＡＢＣ１２３　电梯坏了",
])
def test_suggest_never_raises_on_empty_huge_or_garbage_input(dispatch_world, text):
    suggestions = classify.suggest(text)
    assert isinstance(suggestions, list)
    assert_well_formed(suggestions)


def test_suggest_logs_and_returns_nothing_when_something_breaks(dispatch_world, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database gone")

    monkeypatch.setattr(classify, "catalogue", broken)
    with caplog.at_level(logging.ERROR, logger="zhouxin.dispatch.classify"):
        assert classify.suggest("电梯坏了") == []
    assert "category suggestion failed" in caplog.text


def test_a_damaged_model_file_falls_back_to_the_keywords(dispatch_world, model_dir, caplog):
    classify.train(synthetic_examples())
    pointer = model_dir / "classifier.json"
    data = pointer.read_text(encoding="utf-8")
    (model_dir / next(p.name for p in model_dir.glob("classifier-*.npz"))).write_bytes(b"not a zip file")
    pointer.write_text(data.replace('"version": ', '"version": 1'), encoding="utf-8")  # a "newer" version
    classify.reset_cache()
    with caplog.at_level(logging.ERROR, logger="zhouxin.dispatch.classify"):
        suggestions = classify.suggest("电梯停运，有人被困")
    assert suggestions and suggestions[0].code == "040101"
    assert "could not load the category model" in caplog.text


# --- The learned model -------------------------------------------------------------------

def test_training_on_a_labelled_set_suggests_the_right_class_for_separable_texts(dispatch_world, model_dir):
    unseen = {"080101": "打桩机半夜还在轰隆隆地响个不停", "120101": "水龙头拧开一滴都不出来",
              "040102": "台阶上的烟头纸屑没人打扫"}
    for text in unseen.values():
        assert classify.suggest(text) == []  # no keyword of the catalogue in these texts

    result = classify.train(synthetic_examples())
    assert result.trained and result.examples == 72 and result.classes == 3
    assert (model_dir / "classifier.json").exists()

    for code, text in unseen.items():
        suggestions = classify.suggest(text)
        assert suggestions[0].code == code, (text, suggestions)
        assert suggestions[0].confidence > 0.5
        assert_well_formed(suggestions)


def test_stored_model_scores_like_the_fitted_pipeline(dispatch_world):
    """The arrays written to disk and the numpy inference give scikit-learn's probabilities."""
    examples = synthetic_examples()
    vectoriser, classifier = classify.fit(examples)
    model = classify._model_from_arrays(classify._arrays(vectoriser, classifier), version=1, support={})
    for text in ["打桩机半夜还在响", "水龙头不出来了", "台阶上有烟头", "完全无关的一句话：今天天气不错"]:
        expected = classifier.predict_proba(vectoriser.transform([text]))[0]
        got = model.probabilities(text)
        if not got:  # no known feature at all: the model abstains
            continue
        ours = np.array([got[c] for c in classifier.classes_])
        assert np.allclose(ours, expected, atol=2e-3), (text, ours, expected)


def test_model_learned_from_confirmed_categories_only(personas, dispatch_world):
    w = dispatch_world
    staff = personas.users["community_staff"]

    def intake(text, code=None):
        return request_intake(actor=staff, kind=RequestKind.COMPLAINT, channel=Channel.HOTLINE,
                              area=personas.areas["grid_a"], title=text[:20], description=text,
                              category=w.categories[code] if code else None)

    for text, code in synthetic_examples(repeat=2):
        intake(text, code)
    unconfirmed = intake("打桩机半夜轰隆隆这条没有确认类别")
    assert unconfirmed.category_confirmed is False

    examples = classify.confirmed_examples()
    assert len(examples) == 24
    assert {code for _, code in examples} == set(SEPARABLE)
    assert all("这条没有确认类别" not in text for text, _ in examples)

    result = classify.train()
    assert result.trained and result.examples == 24
    assert classify.suggest("打桩机半夜还在轰隆隆地响")[0].code == "080101"


def test_too_little_data_trains_nothing_and_keywords_carry_on(dispatch_world, model_dir):
    result = classify.train(synthetic_examples()[:5])
    assert not result.trained and "too little data" in result.message
    assert not model_dir.exists() or not any(model_dir.iterdir())
    assert classify.suggest("电梯故障有人被困")[0].code == "040101"


def test_thin_training_data_is_mixed_with_the_keywords(dispatch_world):
    classify.train(synthetic_examples(repeat=3))  # 12 examples for 3 of 5 leaves
    model = classify.current_model()
    assert model.support == {"080101": 12, "120101": 12, "040102": 12}
    # A text both scorers know: the keyword share keeps 电梯故障 (which the model never saw) on top.
    suggestions = classify.suggest("电梯故障，有人被困在电梯里")
    assert suggestions[0].code == "040101"
    assert_well_formed(suggestions)


def test_a_newer_version_is_picked_up_by_a_running_process(dispatch_world, model_dir):
    first = classify.train(synthetic_examples())
    assert classify.current_model().version == first.version
    # Another process retrains: different labels for the same texts.
    relabelled = [(text, {"080101": "120101", "120101": "080101", "040102": "040102"}[code])
                  for text, code in synthetic_examples()]
    vectoriser, classifier = classify.fit(relabelled)
    second = classify.save_model(vectoriser, classifier, {"080101": 24, "120101": 24, "040102": 24})
    assert second > first.version
    assert classify.suggest("打桩机半夜还在轰隆隆地响")[0].code == "120101"
    assert classify.current_model().version == second
    assert len(list(model_dir.glob("classifier-*.npz"))) == 2


def test_old_versions_are_pruned(dispatch_world, model_dir):
    versions = []
    for _ in range(classify.KEEP_VERSIONS + 2):
        classify.train(synthetic_examples())
        versions.append(classify.current_model(force_check=True).version)
    kept = sorted(int(p.stem.rsplit("-", 1)[1]) for p in model_dir.glob("classifier-*.npz"))
    assert kept == sorted(versions)[-classify.KEEP_VERSIONS:]  # the newest stay, the current one too
    assert classify.current_model(force_check=True).version == versions[-1]


def test_features_drop_digits_and_stop_words():
    feats = classify.features(classify.normalise("我的电话13812345678，3号楼电梯坏了"), use_jieba=True)
    assert not any(ch.isdigit() for f in feats for ch in f)  # phone numbers never reach the model
    assert "w:电梯" in feats and "w:的" not in feats
    assert "c:电梯" in feats


def test_jieba_does_not_write_to_stderr():
    assert logging.getLogger("jieba").getEffectiveLevel() >= logging.WARNING


# --- Task and commands --------------------------------------------------------------------

def test_retrain_task_trains_and_reports(personas, dispatch_world):
    from zhouxin.dispatch.tasks_classifier import retrain_classifier

    for text, code in synthetic_examples(repeat=2):
        request_intake(actor=personas.users["community_staff"], kind=RequestKind.COMPLAINT,
                       channel=Channel.HOTLINE, area=personas.areas["grid_a"], title=text[:20],
                       description=text, category=dispatch_world.categories[code])
    outcome = retrain_classifier.call()
    assert outcome["trained"] is True and outcome["examples"] == 24 and outcome["classes"] == 3
    assert classify.current_model().version == outcome["version"]


def test_train_command_enqueue_puts_the_task_in_the_queue(dispatch_world):
    from django_tasks_db.models import DBTaskResult

    out = io.StringIO()
    call_command("train_classifier", "--enqueue", stdout=out)
    assert "已加入任务队列" in out.getvalue()
    assert DBTaskResult.objects.get().task_path == "zhouxin.dispatch.tasks_classifier.retrain_classifier"


RETRAIN_TASK = "zhouxin.dispatch.tasks_classifier.retrain_classifier"


@pytest.fixture
def retrain_gate():
    """Each test starts with this process's retraining gate open (the cache outlives a test)."""
    from django.core.cache import cache

    from zhouxin.dispatch import services

    cache.delete(services._RETRAIN_GATE)
    yield services._RETRAIN_GATE
    cache.delete(services._RETRAIN_GATE)


def test_confirming_categories_schedules_retraining_at_most_once_an_hour(
        personas, dispatch_world, django_capture_on_commit_callbacks, monkeypatch, retrain_gate):
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from zhouxin.dispatch import services

    hub, leaf = personas.street_hub, dispatch_world.categories["040102"]
    waiting = [request_intake(actor=personas.users["community_staff"], kind=RequestKind.COMPLAINT,
                              channel=Channel.HOTLINE, area=personas.areas["community_a"], title=f"楼道杂物{i}",
                              description="楼道里堆满纸箱。") for i in range(4)]

    def confirm(request):
        with django_capture_on_commit_callbacks(execute=True):
            services.request_categorise(actor=hub, request=request, category=leaf)

    def queued() -> int:
        return DBTaskResult.objects.filter(task_path=RETRAIN_TASK).count()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.request_categorise(actor=hub, request=waiting[0], category=leaf)
    assert queued() == 0  # nothing before the categorisation commits
    for callback in callbacks:
        callback()
    assert queued() == 1
    confirm(waiting[1])
    assert queued() == 1  # within the hour: nothing more
    with CaptureQueriesContext(connection) as queries:
        assert services.schedule_classifier_retraining() is False
    assert len(queries) == 0  # this process remembers: no query while the hour runs
    # Another process (its own cache empty) finds the recent task in the table and adds none.
    cache.delete(retrain_gate)
    confirm(waiting[2])
    assert queued() == 1
    # An hour and a minute later the next confirmation schedules a retraining again.
    later = timezone.now() + dt.timedelta(minutes=61)
    monkeypatch.setattr(timezone, "now", lambda: later)
    confirm(waiting[3])
    assert queued() == 2
    assert DBTaskResult.objects.filter(task_path=RETRAIN_TASK, enqueued_at=later).exists()


def test_a_failing_enqueue_does_not_undo_the_categorisation(personas, dispatch_world,
                                                            django_capture_on_commit_callbacks, monkeypatch,
                                                            retrain_gate, caplog):
    from zhouxin.dispatch import services
    from zhouxin.dispatch.tasks_classifier import retrain_classifier

    def broken(*args, **kwargs):
        raise RuntimeError("task queue unavailable")

    monkeypatch.setattr(type(retrain_classifier.get_backend()), "enqueue", broken)
    request = request_intake(actor=personas.users["community_staff"], kind=RequestKind.COMPLAINT,
                             channel=Channel.HOTLINE, area=personas.areas["community_a"], title="楼道杂物",
                             description="楼道里堆满纸箱。")
    with caplog.at_level(logging.ERROR, logger="zhouxin.dispatch"), \
            django_capture_on_commit_callbacks(execute=True):
        services.request_categorise(actor=personas.street_hub, request=request,
                                    category=dispatch_world.categories["040102"])
    request.refresh_from_db()
    assert request.category_confirmed and request.category_id == dispatch_world.categories["040102"].pk
    assert "could not schedule the classifier's retraining" in caplog.text


def write_csv(path, rows, header=("text", "category_code")):
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_train_command_on_a_labelled_file(dispatch_world, tmp_path):
    path = write_csv(tmp_path / "train.csv", synthetic_examples() + [("这一行的编码不存在", "999999")])
    out, err = io.StringIO(), io.StringIO()
    call_command("train_classifier", "--csv", str(path), stdout=out, stderr=err)
    assert "已训练" in out.getvalue() and "72 examples" in out.getvalue()
    assert "999999 不是启用的末级类别" in err.getvalue()
    with pytest.raises(CommandError, match="未训练"):
        call_command("train_classifier", "--csv", str(write_csv(tmp_path / "few.csv", synthetic_examples()[:3])),
                     stdout=io.StringIO())


def evaluation_lines(output: str) -> dict[str, list[str]]:
    rows = {}
    for line in output.splitlines():
        for label in ("学习模型 (model)", "关键词基线 (keywords)", "组合建议 (combined)"):
            if line.startswith(label):
                rows[label] = line[len(label):].split()
    return rows


def test_evaluate_command_prints_top1_and_top3_for_model_and_keywords(dispatch_world, tmp_path):
    rows = [("电梯停运有人被困", "040101"), ("夜间施工噪音扰民", "080101"), ("小区停水没水用", "120101"),
            ("楼顶加盖违建", "060101"), ("打桩机半夜轰隆隆", "080101")]
    path = write_csv(tmp_path / "eval.csv", rows)

    out = io.StringIO()
    call_command("evaluate_classifier", str(path), stdout=out, stderr=io.StringIO())
    text = out.getvalue()
    assert "评估行数 (rows): 5，类别数 (categories): 4" in text
    assert "学习模型 (model): 无" in text
    table = evaluation_lines(text)
    assert table["学习模型 (model)"] == ["—", "—"]
    # The keywords find the first four; the fifth has no keyword of its class.
    assert table["关键词基线 (keywords)"] == ["80.0%", "80.0%"]
    assert "top-1" in text and "top-3" in text
    assert "080101 施工噪声 2 —/1/1" in text  # per class: rows, top-1 hits model/keywords/combined

    classify.train(synthetic_examples())
    out = io.StringIO()
    call_command("evaluate_classifier", str(path), "--no-per-class", stdout=out)
    table = evaluation_lines(out.getvalue())
    assert table["学习模型 (model)"][0].endswith("%")
    assert table["组合建议 (combined)"] == ["100.0%", "100.0%"]  # the model knows 打桩机
    assert "每类" not in out.getvalue()


def test_evaluate_command_with_a_held_out_split(dispatch_world, tmp_path):
    path = write_csv(tmp_path / "eval.csv", synthetic_examples())
    out = io.StringIO()
    call_command("evaluate_classifier", str(path), "--split", "0.5", stdout=out)
    text = out.getvalue()
    assert "评估行数 (rows): 36" in text  # half of each class held out
    assert "训练样本 36 条" in text
    assert evaluation_lines(text)["学习模型 (model)"] == ["100.0%", "100.0%"]
    assert not (tmp_path / "models").exists()  # nothing stored


@pytest.mark.parametrize("content, message", [
    ("text,code\n电梯坏了,040101\n", "文件缺少列"),
    ("text,category_code\n电梯坏了,999999\n", "没有可评估的行"),
    (b"\xff\xfe\x00text", "UTF-8"),
])
def test_evaluate_command_refuses_bad_files_with_a_clear_message(dispatch_world, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(CommandError, match=message):
        call_command("evaluate_classifier", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    with pytest.raises(CommandError, match="无法打开文件"):
        call_command("evaluate_classifier", str(tmp_path / "missing.csv"), stdout=io.StringIO())
    with pytest.raises(CommandError, match="--split"):
        call_command("evaluate_classifier", str(path), "--split", "1.5", stdout=io.StringIO())


def test_the_shipped_evaluation_set_uses_real_catalogue_codes():
    """zhouxin/dispatch/data/classifier_eval.csv is labelled with leaves of catalogue.csv."""
    from pathlib import Path

    data = Path(classify.__file__).parent / "data"
    with open(data / "catalogue.csv", encoding="utf-8") as fh:
        codes = {row["code"] for row in csv.DictReader(fh)}
    leaves = {c for c in codes if not any(o != c and o.startswith(c) for o in codes)}
    with open(data / "classifier_eval.csv", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) >= 300
    assert {row["category_code"] for row in rows} <= leaves
    assert len({row["text"] for row in rows}) == len(rows)


def test_a_cold_process_does_not_wait_for_jiebas_dictionary(dispatch_world, monkeypatch):
    classify.train(synthetic_examples())
    classify.reset_cache()  # a new process: the model is read from disk, jieba is not loaded yet
    started = []
    monkeypatch.setattr(classify, "jieba_ready", lambda: False)
    monkeypatch.setattr(classify, "_load_jieba_in_background", lambda: started.append(True))
    monkeypatch.setattr(classify.jieba, "lcut", lambda *a, **k: pytest.fail("jieba used before it is loaded"))
    assert classify.suggest("3号楼电梯停运，老人被困")[0].code == "040101"
    assert classify.suggest("打桩机半夜还在轰隆隆地响")[0].code == "080101"  # the model, on n-grams
    assert started  # the dictionary is being loaded in the background meanwhile
    assert not any(f.startswith("w:") for f in classify.features("电梯停运"))


def test_a_category_saved_in_this_process_is_seen_at_once(dispatch_world):
    assert classify.suggest("小区里飞线充电很危险") == []
    Category.objects.create(code="040103", name="飞线充电", parent=dispatch_world.categories["0401"], level=3,
                            keywords="飞线充电 私拉电线")
    assert classify.suggest("小区里飞线充电很危险")[0].code == "040103"
