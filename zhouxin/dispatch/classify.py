"""Category suggestions (分类建议) for a request's text.

Two scorers, combined:

* a **keyword baseline** built from the catalogue itself (each active leaf's
  keywords, its name and its parent's name), which works from the first day
  (cold start);
* a **learned model**: a multinomial logistic regression over tf-idf weighted
  jieba tokens and character bigrams/trigrams, trained by `train()` (task
  `retrain_classifier`, `manage.py train_classifier`) on the categories that
  dispatchers confirmed (`ServiceRequest.category_confirmed`).

While the model has seen too few confirmed examples of too many leaves, the two
are mixed: the model's weight is the share of active leaves that have at least
`MIN_EXAMPLES_PER_CLASS` confirmed examples.

The model is stored as plain arrays (vocabulary, idf, coefficients; numpy
`.npz`, loaded with `allow_pickle=False`, so no pickled code is ever executed)
under `settings.VAR_DIR / "models"` with a pointer file naming the current
version.  Every process loads it lazily, keeps it in memory and reloads it
when the pointer names a newer version.  Inference is a few sparse dot
products done here with numpy: scikit-learn is needed only for training.

`suggest()` is on the intake path: it never raises (it logs and returns []),
never waits for jieba's dictionary (the first calls of a cold process fall
back to character n-grams while the dictionary loads in the background), and
takes well under 20 ms.
"""

from __future__ import annotations

import json
import logging
import math
import os
import re
import threading
import time
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
import jieba
import numpy as np
from django.conf import settings
from django.db.models.signals import post_delete, post_save

logger = logging.getLogger(__name__)

# jieba announces its dictionary loading on stderr at INFO level.
jieba.setLogLevel(logging.WARNING)

MODEL_NAME = "classifier"
MIN_EXAMPLES_PER_CLASS = 10      # below this many confirmed examples a leaf leans on the keywords
MIN_TRAINING_EXAMPLES = 20       # fewer confirmed requests than this: no model is trained
MAX_TRAINING_EXAMPLES = 100_000  # the most recent confirmed requests (20,000 train in ~40 s)
MAX_FEATURES = 50_000           # × classes × 2 bytes (float16) is the model's size in memory
MAX_TEXT_CHARS = 2_000           # longer texts are cut: the start says what the request is about
KEEP_VERSIONS = 3
CATALOGUE_TTL_SECONDS = 60       # catalogue edits reach every process within this time
MODEL_CHECK_SECONDS = 5          # how often a process looks for a newer model version


@dataclass(frozen=True)
class Suggestion:
    category_id: int
    code: str
    name: str
    confidence: float


# --- Text → features ---------------------------------------------------------------

_DIGITS = re.compile(r"\d+")
_SPLIT = re.compile(r"[^\w#]+")  # punctuation and spaces separate runs; CJK, letters, digits stay
_STOP_WORDS = (
    "的 了 是 我 我们 你 你们 他 她 它 他们 在 有 和 与 及 也 都 就 又 还 很 要 会 能 说 这 那 这个 那个 "
    "一个 什么 怎么 请 您 吗 呢 吧 啊 呀 被 把 让 给 对 从 到 为 为了 但 但是 而且 因为 所以 已经 "
    "一直 现在 希望 能否 能不能 可以 麻烦 问题 情况 反映 反应 诉求 市民 来电 来电人 表示 称")
_STOP_TOKENS = frozenset(_STOP_WORDS.split())

_jieba_loading = threading.Lock()
_jieba_thread: threading.Thread | None = None


def normalise(text: str) -> str:
    """NFKC (full-width → half-width), lower case, digit runs → '#' (a phone number or
    house number is no evidence of a category and must not end up in the model), cut."""
    text = unicodedata.normalize("NFKC", text or "")[:MAX_TEXT_CHARS].lower()
    return _DIGITS.sub("#", text)


def jieba_ready() -> bool:
    return bool(getattr(jieba.dt, "initialized", False))


def _load_jieba_in_background() -> None:
    global _jieba_thread
    with _jieba_loading:
        if jieba_ready() or (_jieba_thread is not None and _jieba_thread.is_alive()):
            return
        _jieba_thread = threading.Thread(target=jieba.initialize, name="jieba-init", daemon=True)
        _jieba_thread.start()


def features(text: str, *, use_jieba: bool | None = None) -> list[str]:
    """Features of a normalised text: jieba words ("w:…") and character 2- and 3-grams ("c:…")."""
    if use_jieba is None:
        use_jieba = jieba_ready()
        if not use_jieba:
            _load_jieba_in_background()
    out: list[str] = []
    runs = [run for run in _SPLIT.split(text) if run]
    if use_jieba:
        for run in runs:
            for token in jieba.lcut(run, HMM=False):
                if token not in _STOP_TOKENS and token.strip("#_") and (len(token) > 1 or _is_cjk(token)):
                    out.append("w:" + token)
    for run in runs:
        for n in (2, 3):
            out.extend("c:" + run[i:i + n] for i in range(len(run) - n + 1))
    return out


def _is_cjk(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


def training_analyzer(text: str) -> list[str]:
    """The analyser the model is trained with (module level, so the vectoriser is picklable)."""
    return features(normalise(text), use_jieba=True)


# --- The catalogue: active leaves and the keyword baseline -----------------------------

@dataclass(frozen=True)
class Leaf:
    id: int
    code: str
    name: str


@dataclass
class Catalogue:
    leaves: dict[str, Leaf]                     # code → leaf
    terms: list[tuple[str, tuple[tuple[str, float], ...]]]  # term → ((code, weight), …)
    loaded_at: float = field(default_factory=time.monotonic)
    _automaton: ahocorasick.Automaton | None = field(default=None, repr=False)

    def terms_in(self, text: str) -> list[int]:
        """Indices into `terms` (in their order) of the terms that occur in `text`: one pass of
        an Aho-Corasick automaton over the text instead of a search per term."""
        if self._automaton is None:
            automaton = ahocorasick.Automaton()
            for index, (term, _weights) in enumerate(self.terms):
                automaton.add_word(term, index)
            if self.terms:
                automaton.make_automaton()
            self._automaton = automaton
        if not self.terms:
            return []
        return sorted({index for _end, index in self._automaton.iter(text)})


_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
_catalogue: Catalogue | None = None
_catalogue_lock = threading.Lock()


def active_leaves() -> dict[str, Leaf]:
    """Active categories with no active child, whose ancestors are all active."""
    from .models import Category

    rows = list(Category.objects.values_list("id", "code", "name", "parent_id", "is_active", "keywords"))
    by_id = {r[0]: r for r in rows}
    has_active_child = {r[3] for r in rows if r[4] and r[3] is not None}

    def chain_active(row) -> bool:
        seen = 0
        while row is not None and seen < 10:
            if not row[4]:
                return False
            row = by_id.get(row[3])
            seen += 1
        return True

    return {r[1]: Leaf(r[0], r[1], r[2]) for r in rows if r[0] not in has_active_child and chain_active(r)}


def _build_catalogue() -> Catalogue:
    """Keyword terms per leaf.  A term's weight grows with its length (a longer match is
    more specific) and shrinks with the number of leaves that share it (idf)."""
    from .models import Category

    leaves = active_leaves()
    rows = {r[0]: r for r in Category.objects.values_list("id", "name", "parent_id", "keywords")}
    raw: dict[str, dict[str, float]] = {}  # term → code → base weight

    def add(term: str, code: str, base: float) -> None:
        term = normalise(term).strip()
        if len(term) < 2:  # one character ("水", "楼") matches far too much
            return
        per_code = raw.setdefault(term, {})
        per_code[code] = max(per_code.get(code, 0.0), base)

    for code, leaf in leaves.items():
        _, name, parent_id, keywords = rows[leaf.id]
        for term in _SEPARATORS.split(keywords or ""):
            add(term, code, 1.0)
        add(name, code, 1.2)
        # The halves of a four-character name ("电梯故障" → "电梯", "故障") count as
        # weaker keywords: most catalogue names are two two-character words.
        if len(name) >= 4:
            for i in range(0, len(name) - 1, 2):
                add(name[i:i + 2], code, 0.6)
        parent = rows.get(parent_id)
        if parent is not None:
            add(parent[1], code, 0.4)
    n_leaves = max(1, len(leaves))
    terms = []
    for term, per_code in raw.items():
        idf = math.log(1 + n_leaves / len(per_code))
        length = min(len(term), 6) / 2
        terms.append((term, tuple((code, base * idf * length) for code, base in per_code.items())))
    # Longest terms first, so that "私搭乱建" is matched before "乱建" can double-count it.
    terms.sort(key=lambda t: -len(t[0]))
    return Catalogue(leaves=leaves, terms=terms)


def catalogue() -> Catalogue:
    global _catalogue
    current = _catalogue
    if current is not None and time.monotonic() - current.loaded_at < CATALOGUE_TTL_SECONDS:
        return current
    with _catalogue_lock:
        if _catalogue is None or time.monotonic() - _catalogue.loaded_at >= CATALOGUE_TTL_SECONDS:
            _catalogue = _build_catalogue()
        return _catalogue


def invalidate_catalogue() -> None:
    """Call after editing the catalogue so this process sees the change at once."""
    global _catalogue
    _catalogue = None


def _category_changed(**kwargs) -> None:
    invalidate_catalogue()


# A category saved or deleted in this process is seen at once; other processes see it
# within CATALOGUE_TTL_SECONDS (bulk updates send no signal and wait for the TTL too).
post_save.connect(_category_changed, sender="dispatch.Category", dispatch_uid="classify_category_saved")
post_delete.connect(_category_changed, sender="dispatch.Category", dispatch_uid="classify_category_deleted")


def keyword_scores(text: str, cat: Catalogue | None = None) -> dict[str, float]:
    """Keyword baseline: leaf code → confidence.  Confidences are score / (total + 1), so
    they sum to less than 1 and a single weak match stays modest."""
    cat = cat or catalogue()
    remaining = normalise(text)
    scores: dict[str, float] = {}
    # Only the terms found in the text can match; each is then taken in the catalogue's order
    # (longest first) from what the longer ones before it left.
    for index in cat.terms_in(remaining):
        term, weights = cat.terms[index]
        if term in remaining:
            hits = remaining.count(term)
            for code, weight in weights:
                scores[code] = scores.get(code, 0.0) + weight * (1 + math.log(hits))
            remaining = remaining.replace(term, "\x00")
    total = sum(scores.values())
    return {code: score / (total + 1.0) for code, score in scores.items()}


# --- The learned model ---------------------------------------------------------------

@dataclass
class Model:
    version: int
    vocabulary: dict[str, int]
    idf: np.ndarray          # (n_features,)
    coef: np.ndarray         # (n_features, n_classes) float16: rows gathered per text
    intercept: np.ndarray    # (n_classes,)
    classes: list[str]       # category codes
    support: dict[str, int]  # code → confirmed examples it was trained on
    trained_at: str = ""

    def probabilities(self, text: str) -> dict[str, float]:
        counts = Counter(f for f in features(normalise(text)) if f in self.vocabulary)
        if not counts:
            return {}
        idx = np.fromiter((self.vocabulary[f] for f in counts), dtype=np.int64, count=len(counts))
        tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        weights = tf * self.idf[idx]
        norm = np.sqrt(np.dot(weights, weights))
        if norm == 0:
            return {}
        weights /= norm
        logits = weights @ self.coef[idx].astype(np.float64) + self.intercept
        logits -= logits.max()
        probs = np.exp(logits)
        probs /= probs.sum()
        return dict(zip(self.classes, probs.tolist(), strict=True))


def model_dir() -> Path:
    return Path(settings.VAR_DIR) / "models"


def _pointer_path() -> Path:
    return model_dir() / f"{MODEL_NAME}.json"


_model: Model | None = None
_model_checked_at = 0.0
_model_pointer_mtime: int | None = None
_model_lock = threading.Lock()


def _read_pointer() -> dict | None:
    try:
        return json.loads(_pointer_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def _load_model_file(pointer: dict) -> Model:
    path = model_dir() / pointer["file"]
    with np.load(path, allow_pickle=False) as data:
        return _model_from_arrays(
            {key: data[key] for key in data.files}, version=int(pointer["version"]),
            support={k: int(v) for k, v in pointer.get("support", {}).items()},
            trained_at=pointer.get("trained_at", ""))


def current_model(*, force_check: bool = False) -> Model | None:
    """The newest stored model, loaded once per process and reloaded when a newer
    version is written (checked at most every MODEL_CHECK_SECONDS)."""
    global _model, _model_checked_at, _model_pointer_mtime
    now = time.monotonic()
    if not force_check and now - _model_checked_at < MODEL_CHECK_SECONDS:
        return _model
    with _model_lock:
        _model_checked_at = now
        try:
            mtime = _pointer_path().stat().st_mtime_ns
        except FileNotFoundError:
            _model, _model_pointer_mtime = None, None
            return None
        if _model is not None and mtime == _model_pointer_mtime:
            return _model
        _model_pointer_mtime = mtime
        try:
            pointer = _read_pointer()
            if pointer is None:
                _model = None
            elif _model is None or int(pointer["version"]) != _model.version:
                _model = _load_model_file(pointer)
        except Exception:
            # A damaged or half-copied file: keep what we had (or the keywords alone) and
            # try again when the pointer changes.
            logger.exception("could not load the category model from %s", model_dir())
        return _model


def reset_cache() -> None:
    """Forget the cached catalogue and model (tests; after moving VAR_DIR)."""
    global _model, _model_checked_at, _model_pointer_mtime, _catalogue
    with _model_lock:
        _model, _model_checked_at, _model_pointer_mtime = None, 0.0, None
    _catalogue = None


# --- Suggesting ----------------------------------------------------------------------

STORED_MODEL = object()


def combined_scores(text: str, *, model=STORED_MODEL, use_keywords: bool = True) -> dict[str, float]:
    """Leaf code → confidence from the model (the stored one unless given; None for
    none), the keywords, or both (see module doc)."""
    cat = catalogue()
    leaves = cat.leaves
    kw = keyword_scores(text, cat) if use_keywords else {}
    if model is STORED_MODEL:
        model = current_model()
    probs = model.probabilities(text) if model is not None else {}
    probs = {code: p for code, p in probs.items() if code in leaves}
    if not probs:
        return kw
    if not kw:
        return probs
    covered = sum(1 for code in leaves if model.support.get(code, 0) >= MIN_EXAMPLES_PER_CLASS)
    alpha = covered / max(1, len(leaves))
    out = {code: alpha * p for code, p in probs.items()}
    for code, p in kw.items():
        out[code] = out.get(code, 0.0) + (1 - alpha) * p
    return out


def suggest(text: str, *, top: int = 3) -> list[Suggestion]:
    """The `top` most likely active leaf categories for a request's text, best first.

    Confidences are between 0 and 1 and sum to at most 1.  Never raises: any problem
    is logged and gives no suggestions, because suggestions must never block intake.
    """
    try:
        if not isinstance(text, str) or not text.strip() or top <= 0:
            return []
        return rank(combined_scores(text), top=top)
    except Exception:
        logger.exception("category suggestion failed")
        return []


def rank(scores: dict[str, float], *, top: int = 3) -> list[Suggestion]:
    leaves = catalogue().leaves
    best = sorted(((c, s) for c, s in scores.items() if s > 0 and c in leaves),
                  key=lambda item: (-item[1], item[0]))[:top]
    return [Suggestion(category_id=leaves[code].id, code=code, name=leaves[code].name,
                       confidence=round(min(1.0, score), 4)) for code, score in best]


def warm_up(*, with_database: bool = True) -> None:
    """Load jieba's dictionary, the stored model and (with_database) the catalogue now,
    so that the first request of a new process pays for none of them."""
    try:
        jieba.initialize()
        current_model(force_check=True)
        if with_database:
            invalidate_catalogue()
            catalogue()
    except Exception:
        logger.exception("warming up the category suggestions failed")


def warm_up_in_background() -> None:
    """For process start (wsgi.py): load jieba and the model without delaying start-up."""
    threading.Thread(target=warm_up, kwargs={"with_database": False}, name="classify-warm-up",
                     daemon=True).start()


# --- Training --------------------------------------------------------------------------

@dataclass(frozen=True)
class TrainingResult:
    trained: bool
    version: int | None
    examples: int
    classes: int
    message: str


def confirmed_examples(limit: int = MAX_TRAINING_EXAMPLES) -> list[tuple[str, str]]:
    """(text, leaf code) of the most recent requests whose category a dispatcher confirmed,
    limited to categories that are active leaves now.  System work: all areas."""
    from zhouxin.core.scoping import scopes_disabled

    from .choices import Status
    from .models import ServiceRequest

    leaves = active_leaves()
    with scopes_disabled():
        rows = (
            ServiceRequest.objects.filter(category_confirmed=True, category__isnull=False)
            .exclude(status__in=[Status.INVALID, Status.HELD])
            .order_by("-received_at", "-id")
            .values_list("title", "description", "category__code")[:limit]
        )
        return [(f"{title} {description}", code) for title, description, code in rows.iterator(chunk_size=5000)
                if code in leaves]


def fit(examples: list[tuple[str, str]]):
    """Fit the vectoriser and the classifier; returns (vectoriser, classifier)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    jieba.initialize()
    texts = [t for t, _ in examples]
    labels = [c for _, c in examples]
    # min_df=2: a word seen in one request only (a name, an address) is no evidence and
    # must not be kept in the stored vocabulary.
    min_df = 2 if len(examples) >= 200 else 1
    vectoriser = TfidfVectorizer(analyzer=training_analyzer, sublinear_tf=True, min_df=min_df,
                                 max_features=MAX_FEATURES, dtype=np.float32)
    matrix = vectoriser.fit_transform(texts)
    classifier = LogisticRegression(C=20.0, max_iter=300, tol=1e-3)
    with warnings.catch_warnings():
        # "more classes than half the samples" is expected while confirmed data is thin.
        warnings.simplefilter("ignore", UserWarning)
        classifier.fit(matrix, labels)
    return vectoriser, classifier


def _arrays(vectoriser, classifier) -> dict[str, np.ndarray]:
    """The fitted pipeline as plain arrays: what is stored and what inference needs."""
    coef = classifier.coef_.astype(np.float32)
    intercept = classifier.intercept_.astype(np.float32)
    if coef.shape[0] == 1:  # two classes: P(second) = sigmoid(w·x + b) = softmax([0, w·x + b])
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([np.zeros_like(intercept), intercept])
    return {
        "vocabulary": np.asarray(vectoriser.get_feature_names_out(), dtype=str),
        "idf": vectoriser.idf_.astype(np.float32),
        # float16 halves the size; the weights' precision is far beyond what ranking needs.
        "coef": np.ascontiguousarray(coef.T.astype(np.float16)),
        "intercept": intercept,
        "classes": np.asarray([str(c) for c in classifier.classes_], dtype=str),
    }


def _model_from_arrays(arrays, *, version: int, support: dict[str, int], trained_at: str = "") -> Model:
    return Model(
        version=version, vocabulary={term: i for i, term in enumerate(arrays["vocabulary"].tolist())},
        idf=arrays["idf"].astype(np.float64), coef=arrays["coef"],
        intercept=arrays["intercept"].astype(np.float64),
        classes=[str(c) for c in arrays["classes"].tolist()], support=support, trained_at=trained_at,
    )


def train_in_memory(examples: list[tuple[str, str]]) -> Model:
    """A model fitted on `examples` and not stored (evaluation on a held-out split)."""
    vectoriser, classifier = fit(examples)
    return _model_from_arrays(_arrays(vectoriser, classifier), version=0,
                              support=dict(Counter(code for _, code in examples)))


def save_model(vectoriser, classifier, support: dict[str, int]) -> int:
    """Write a new version and point to it atomically; keep the last few versions."""
    directory = model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    previous = _read_pointer()
    version = max(int(time.time() * 1000), int(previous["version"]) + 1 if previous else 0)
    filename = f"{MODEL_NAME}-{version}.npz"
    tmp = directory / f".{filename}.tmp"
    with open(tmp, "wb") as fh:
        np.savez_compressed(fh, **_arrays(vectoriser, classifier))
    os.replace(tmp, directory / filename)
    from django.utils import timezone

    pointer = {"version": version, "file": filename, "trained_at": timezone.now().isoformat(),
               "examples": sum(support.values()), "support": support}
    tmp_pointer = directory / f".{MODEL_NAME}.json.tmp"
    tmp_pointer.write_text(json.dumps(pointer, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp_pointer, _pointer_path())
    stored = sorted(directory.glob(f"{MODEL_NAME}-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in stored[KEEP_VERSIONS:]:
        old.unlink(missing_ok=True)
    return version


def train(examples: list[tuple[str, str]] | None = None) -> TrainingResult:
    """Train on `examples` (text, code), by default the confirmed requests, and store the
    model as a new version.  Too little data trains nothing: the keywords carry on."""
    if examples is None:
        examples = confirmed_examples()
    support = dict(Counter(code for _, code in examples))
    if len(examples) < MIN_TRAINING_EXAMPLES or len(support) < 2:
        return TrainingResult(False, None, len(examples), len(support),
                              f"too little data: {len(examples)} confirmed examples in {len(support)} categories")
    started = time.monotonic()
    vectoriser, classifier = fit(examples)
    version = save_model(vectoriser, classifier, support)
    current_model(force_check=True)
    elapsed = time.monotonic() - started
    logger.info("category model %s trained on %d examples, %d categories in %.1f s",
                version, len(examples), len(support), elapsed)
    return TrainingResult(True, version, len(examples), len(support),
                          f"version {version}: {len(examples)} examples, {len(support)} categories, {elapsed:.1f} s")


# --- Evaluation --------------------------------------------------------------------------

@dataclass
class MethodScore:
    top1: int = 0
    top3: int = 0
    per_class_top1: Counter = field(default_factory=Counter)

    def add(self, code: str, ranked: list[str]) -> None:
        if ranked[:1] == [code]:
            self.top1 += 1
            self.per_class_top1[code] += 1
        if code in ranked[:3]:
            self.top3 += 1


@dataclass
class Evaluation:
    total: int
    per_class: Counter
    methods: dict[str, MethodScore]   # "model" (absent without a model), "keywords", "combined"
    model_version: int | None
    training_examples: int
    seconds_per_text: float


def evaluate(rows: list[tuple[str, str]], *, model=STORED_MODEL) -> Evaluation:
    """Top-1 / top-3 hits of the learned model, the keyword baseline and their combination
    (what suggest() returns) on labelled (text, code) rows whose codes are active leaves."""
    if model is STORED_MODEL:
        model = current_model(force_check=True)
    methods = {"keywords": MethodScore(), "combined": MethodScore()}
    if model is not None:
        methods["model"] = MethodScore()
    cat = catalogue()

    def ranked(scores: dict[str, float]) -> list[str]:
        return [code for code, s in sorted(scores.items(), key=lambda it: (-it[1], it[0]))
                if s > 0 and code in cat.leaves][:3]

    started = time.perf_counter()
    for text, code in rows:
        methods["keywords"].add(code, ranked(keyword_scores(text, cat)))
        methods["combined"].add(code, ranked(combined_scores(text, model=model)))
        if model is not None:
            methods["model"].add(code, ranked(model.probabilities(text)))
    elapsed = time.perf_counter() - started
    return Evaluation(total=len(rows), per_class=Counter(code for _, code in rows), methods=methods,
                      model_version=model.version if model is not None else None,
                      training_examples=sum(model.support.values()) if model is not None else 0,
                      seconds_per_text=elapsed / max(1, len(rows)))


def stratified_split(rows: list[tuple[str, str]], *, fraction: float, seed: int = 1):
    """Split labelled rows into (train, held_out), per class, deterministically: each class
    gives round(n × fraction) rows to training but always keeps one back for evaluation."""
    import random

    by_class: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        by_class.setdefault(row[1], []).append(row)
    rng = random.Random(seed)
    train_rows, held_out = [], []
    for code in sorted(by_class):
        group = list(by_class[code])
        rng.shuffle(group)
        n_train = min(len(group) - 1, round(len(group) * fraction))
        train_rows.extend(group[:n_train])
        held_out.extend(group[n_train:])
    return train_rows, held_out


class LabelledFileError(ValueError):
    """A labelled CSV that cannot be read (message in Chinese, for the operator)."""


def read_labelled_csv(path) -> tuple[list[tuple[str, str]], list[str]]:
    """Rows (text, category_code) of a CSV with columns text,category_code (UTF-8, with or
    without BOM).  Returns the usable rows and one message per skipped row: empty text, or
    a code that is not an active leaf of the catalogue."""
    import csv

    from django.utils.translation import gettext as _

    try:
        handle = open(path, encoding="utf-8-sig", newline="")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise LabelledFileError(_("无法打开文件 %(path)s：%(error)s") % {"path": path, "error": exc.strerror}) from None
    leaves = catalogue().leaves
    rows: list[tuple[str, str]] = []
    skipped: list[str] = []
    with handle:
        try:
            reader = csv.DictReader(handle)
            missing = {"text", "category_code"} - set(reader.fieldnames or ())
            if missing:
                raise LabelledFileError(_("文件缺少列：%(columns)s（需要 text,category_code）")
                                        % {"columns": ", ".join(sorted(missing))})
            for line, record in enumerate(reader, start=2):
                text = (record.get("text") or "").strip()
                code = (record.get("category_code") or "").strip()
                if not text:
                    skipped.append(_("第 %(line)d 行：内容为空") % {"line": line})
                elif code not in leaves:
                    skipped.append(_("第 %(line)d 行：%(code)s 不是启用的末级类别") % {"line": line, "code": code})
                else:
                    rows.append((text, code))
        except UnicodeDecodeError:
            raise LabelledFileError(_("文件不是 UTF-8 编码的 CSV。")) from None
        except csv.Error as exc:
            raise LabelledFileError(_("CSV 格式有误：%(error)s") % {"error": exc}) from None
    return rows, skipped
