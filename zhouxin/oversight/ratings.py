"""Star ratings (星级评定), peers of the same community type (分类指导) and rectification (整改).

Rules and where they come from (DESIGN §3 oversight, the `oversight.rating` rule in policy.py):

* rate(district, period) rates every active community of the district, and separately every
  street, for a month, quarter or year; the current period is rated "to date".  The indicators
  weighed by the rule (policy.WEIGHTS, weight > 0) are computed for all of them at once
  (core.indicators.compute_many); this module knows no domain.
* Points per indicator: a rate (PERCENT) counts value × 100; any other unit counts value ÷ the
  best value among the areas rated together (same district, same level) × 100, and 0 when the
  best is 0.  An indicator without a value for an area (None, or not registered) drops out and
  the weights of the others are re-normalised: score = Σ points × weight ÷ Σ weight of the
  indicators present (2 decimals).  The explanation (Rating.components) says which were missing.
* Stars from the rule's lines: ≥ star_5 → 5, ≥ star_4 → 4, ≥ star_3 → 3, ≥ star_2 → 2, else 1;
  0 stars (and no score) when no weighed indicator has a value.
* Ranks: within the district and level by score, ties share a rank (1, 1, 3); peer ranks within
  the same community type (Area.community_type; blank is its own "未分类" group).
* The rule is the one in force on the period's last day for the district's city; the rating
  stores the PolicyVersion (city version, else national, else None for the defaults) and the
  weights themselves.
* Rectification (整改) flags, recomputed with every rating of the period: the bottom share of
  communities by score (the lowest ceil(bottom_share × n) of the n communities with a score;
  a community with the same score as the last one flagged is flagged too), a secretary post
  vacant for more than vacancy_months × 30 days (communities and streets), satisfaction below
  the floor (communities and streets).  An OPEN flag whose reasons all disappear is removed;
  a flag already RECTIFYING or CLOSED keeps its status and gets the new reasons.  The plan and
  the result are recorded one level up: a community's by its street (or the district), a
  street's by the district ("oversight.rectify" on the parent area).
* A new version of the rule re-rates, in a task, every rated period whose last day is on or
  after its effective date (schedule_recompute → recompute_from); ratings of earlier periods
  are not touched.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, indicators, policy
from zhouxin.core.indicators import Period
from zhouxin.core.models import PolicyVersion
from zhouxin.core.permissions import can, ensure_can
from zhouxin.orgs.choices import AreaLevel, CommunityType
from zhouxin.orgs.models import Area

from .choices import FlagReason, FlagStatus
from .models import Rating, Rectification
from .policy import RATING_KEY, STAR_ITEMS, WEIGHTS

logger = logging.getLogger("zhouxin.oversight")

VACANCY = "workforce.secretary_vacancy_days"
SATISFACTION = "dispatch.satisfaction_rate"
TRIGGERS = (VACANCY, SATISFACTION)
UNTYPED = "untyped"  # the peer group of communities without a type (a filter value, never stored)
UNTYPED_LABEL = gettext_lazy("未分类")
RATED_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.STREET)
DAYS_PER_MONTH = 30
TEXT_MAX = 4000

HUNDRED = Decimal(100)
CENTS = Decimal("0.01")
ZERO = Decimal(0)


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


def _decimal(value) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _json_value(value):
    """An indicator value as stored in the explanation: ints stay ints, decimals become text."""
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        return value
    return str(_decimal(value))


def type_label(community_type: str) -> str:
    """The peer group's name: the community type, or 未分类."""
    if community_type in CommunityType.values:
        return str(CommunityType(community_type).label)
    return str(UNTYPED_LABEL)


def city_of(district: Area) -> Area | None:
    """The city-level area of a district (rules are per city)."""
    return Area.objects.unscoped().filter(code=district.code[:4], level=AreaLevel.CITY).first()


# --- Scoring (pure: areas and values in, scores out) --------------------------------------------

@dataclass
class Scored:
    score: Decimal | None
    stars: int
    components: list[dict]
    missing: list[str] = field(default_factory=list)


def weighted_items(rule: dict) -> list[tuple[str, Decimal]]:
    """(indicator name, weight) of every indicator the rule weighs (weight > 0), in WEIGHTS order."""
    out = []
    for item, name in WEIGHTS.items():
        weight = _decimal(rule[item])
        if weight > 0:
            out.append((name, weight))
    return out


def stars_for(score: Decimal | None, rule: dict) -> int:
    """5/4/3/2 stars at or above the rule's lines, else 1; 0 when there is no score."""
    if score is None:
        return 0
    for stars, item in zip((5, 4, 3, 2), STAR_ITEMS, strict=True):
        if score >= _decimal(rule[item]):
            return stars
    return 1


def _points(value, unit: str, best: Decimal | None, higher_is_better: bool) -> Decimal:
    value = _decimal(value)
    if unit == indicators.PERCENT:
        points = value * HUNDRED if higher_is_better else (1 - value) * HUNDRED
        return _round(min(max(points, ZERO), HUNDRED))
    if higher_is_better:
        if not best or best <= 0:
            return _round(ZERO)
        return _round(min(max(value / best * HUNDRED, ZERO), HUNDRED))
    # Less is better (none of the default weights): the best (lowest) value gets 100.
    if value <= 0:
        return _round(HUNDRED)
    return _round(min(max((best or ZERO) / value * HUNDRED, ZERO), HUNDRED))


def _best(values: dict[int, object], ids: Sequence[int], higher_is_better: bool) -> Decimal | None:
    present = [_decimal(values[i]) for i in ids if values.get(i) is not None]
    if not present:
        return None
    return max(present) if higher_is_better else min(present)


def _fallback_title(name: str) -> str:
    spec = policy.definition(RATING_KEY)
    item = next((item for item, indicator in WEIGHTS.items() if indicator == name), None)
    label = spec.item_label(item) if item else name
    return label.removeprefix(_("权重：")) if label != item else name


def score_areas(areas: Sequence[Area], values: dict[str, dict[int, object]], weighted: list[tuple[str, Decimal]],
                rule: dict, period: Period, *, links: bool = True) -> dict[int, Scored]:
    """Score areas rated together (one district, one level) from the computed `values`
    ({indicator name: {area id: value}}); see the module docstring for the rule."""
    ids = [a.pk for a in areas]
    meta = {}
    for name, _weight in weighted:
        if indicators.exists(name):
            indicator = indicators.get(name)
            meta[name] = (str(indicator.title), indicator.unit, indicator.higher_is_better)
        else:  # not registered (its domain is not installed): named after the rule's item
            meta[name] = (_fallback_title(name), "", True)
    best = {name: _best(values.get(name, {}), ids, meta[name][2]) for name, _w in weighted}
    out: dict[int, Scored] = {}
    for area in areas:
        present_weight = sum((w for name, w in weighted if values.get(name, {}).get(area.pk) is not None), ZERO)
        components, missing, total = [], [], ZERO
        for name, weight in weighted:
            title, unit, higher = meta[name]
            value = values.get(name, {}).get(area.pk)
            link = indicators.link(name, area, period) if links and indicators.exists(name) else None
            component = {"name": name, "title": title, "unit": unit, "value": _json_value(value),
                         "shown": indicators.format_value(value, unit) if unit else indicators.DASH,
                         "points": None, "weight": str(weight), "share": None, "weighted": None,
                         "link": link, "missing": value is None}
            if value is None:
                missing.append(name)
            else:
                points = _points(value, unit, best[name], higher)
                total += points * weight
                component.update(points=str(points), share=str(_round(weight / present_weight * HUNDRED)),
                                 weighted=str(_round(points * weight / present_weight)))
            components.append(component)
        score = _round(total / present_weight) if present_weight > 0 else None
        out[area.pk] = Scored(score=score, stars=stars_for(score, rule), components=components, missing=missing)
    return out


def competition_ranks(scores: dict[int, Decimal | None]) -> dict[int, int | None]:
    """Rank by score, highest first; equal scores share a rank and the next rank skips (1, 1, 3)."""
    ordered = sorted((s for s in scores.values() if s is not None), reverse=True)
    first = {}
    for position, score in enumerate(ordered, start=1):
        first.setdefault(score, position)
    return {key: (first[s] if s is not None else None) for key, s in scores.items()}


# --- Rating a district --------------------------------------------------------------------------

@dataclass
class RunResult:
    district: str
    period: str
    communities: int = 0
    streets: int = 0
    scored: int = 0
    flagged: int = 0
    unflagged: int = 0
    policy_version: int | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def parse_period(value: Period | str) -> Period:
    return value if isinstance(value, Period) else Period.parse(value)


def check_period(period: Period) -> None:
    if period.start > timezone.localdate():
        raise ValidationError({"period": [_("统计期%(period)s尚未开始，不能评定。") % {"period": period.label}]})


def _check_district(district: Area) -> None:
    if district is None or district.level != AreaLevel.DISTRICT:
        raise ValidationError({"district": [_("星级评定按区进行，请选择一个区。")]})


@transaction.atomic
def rate(district: Area, period: Period | str, *, actor=None) -> RunResult:
    """Rate the district's active communities and streets for `period` (see the module docstring)
    and recompute the period's rectification flags; one audit entry for the run.  `actor=None`
    is the system (the recompute task, the command line)."""
    period = parse_period(period)
    _check_district(district)
    if actor is not None:
        ensure_can(actor, "oversight.rating.run", district.code)
    check_period(period)
    # One run of a district at a time: the second waits and then re-rates on top of the first.
    Area.objects.unscoped().select_for_update().filter(pk=district.pk).values_list("pk", flat=True).first()

    city = city_of(district)
    rule = policy.get(RATING_KEY, city=city, on=period.end)
    version = policy.version_in_force(RATING_KEY, city, period.end)
    weighted = weighted_items(rule)
    areas = list(Area.objects.unscoped().filter(code__startswith=district.code, level__in=RATED_LEVELS,
                                                is_active=True).order_by("code"))
    names = [name for name, _w in weighted if indicators.exists(name)]
    names += [name for name in TRIGGERS if indicators.exists(name) and name not in names]
    values = indicators.compute_many(names, areas, period) if areas else {}

    now = timezone.now()
    weights_snapshot = {name: str(_decimal(rule[item])) for item, name in WEIGHTS.items()}
    existing = {r.area_id: r for r in Rating.objects.unscoped().filter(district=district, period=period.key)}
    result = RunResult(district=district.code, period=period.key, policy_version=getattr(version, "pk", None))
    to_create, to_update, scores_by_level = [], [], {}
    for level in RATED_LEVELS:
        group = [a for a in areas if a.level == level]
        scored = score_areas(group, values, weighted, rule, period)
        scores = {a.pk: scored[a.pk].score for a in group}
        scores_by_level[level] = scores
        ranks = competition_ranks(scores)
        rank_of = sum(1 for s in scores.values() if s is not None)
        by_type: dict[str, dict[int, Decimal | None]] = defaultdict(dict)
        for a in group:
            by_type[a.community_type or ""][a.pk] = scores[a.pk]
        peer_ranks, peer_counts = {}, {}
        for members in by_type.values():
            ranked = competition_ranks(members)
            count = sum(1 for s in members.values() if s is not None)
            for pk in members:
                peer_ranks[pk], peer_counts[pk] = ranked[pk], count
        for a in group:
            s = scored[a.pk]
            fields = {
                "district": district, "period_kind": period.kind, "period_start": period.start,
                "period_end": period.end, "community_type": a.community_type or "", "score": s.score,
                "stars": s.stars, "components": s.components, "rank": ranks[a.pk], "rank_of": rank_of,
                "peer_rank": peer_ranks[a.pk], "peer_count": peer_counts[a.pk], "policy_version": version,
                "weights": weights_snapshot, "computed_at": now,
            }
            row = existing.pop(a.pk, None)
            if row is None:
                to_create.append(Rating(area=a, period=period.key, **fields))
            else:
                for name, value in fields.items():
                    setattr(row, name, value)
                to_update.append(row)
            result.scored += s.score is not None
        if level == AreaLevel.COMMUNITY:
            result.communities = len(group)
        else:
            result.streets = len(group)
    if existing:  # areas no longer active: their old rating of this period would skew the ranks
        Rating.objects.unscoped().filter(pk__in=[r.pk for r in existing.values()]).delete()
    Rating.objects.unscoped().bulk_create(to_create)
    if to_update:
        Rating.objects.unscoped().bulk_update(to_update, [
            "district", "period_kind", "period_start", "period_end", "community_type", "score", "stars",
            "components", "rank", "rank_of", "peer_rank", "peer_count", "policy_version", "weights",
            "computed_at"])

    reasons = flag_reasons(areas, scores_by_level, values, rule, period, district=district)
    result.flagged, result.unflagged = _store_flags(district, period, areas, reasons, now)
    audit.record(actor=actor, action="oversight.rating.run", obj=district,
                 after={**result.as_dict(), "weights": weights_snapshot, "removed_ratings": len(existing)})
    return result


# --- Rectification flags --------------------------------------------------------------------------

def rating_url(area: Area, period: Period) -> str:
    return reverse("oversight:rating_detail", kwargs={"code": area.code, "period": period.key})


def _percent(value: Decimal) -> str:
    text = f"{(value * HUNDRED).normalize():f}"
    return f"{text}%"


def flag_reasons(areas: Sequence[Area], scores_by_level: dict[str, dict[int, Decimal | None]],
                 values: dict[str, dict[int, object]], rule: dict, period: Period, *, district: Area,
                 ) -> dict[int, list[dict]]:
    """{area id: [{reason, text, figure, link}]} for the areas that meet a rectification trigger."""
    reasons: dict[int, list[dict]] = defaultdict(list)
    by_pk = {a.pk: a for a in areas}

    # Bottom share of the communities with a score.
    scores = {pk: s for pk, s in scores_by_level.get(AreaLevel.COMMUNITY, {}).items() if s is not None}
    share = _decimal(rule["bottom_share"])
    count = math.ceil(share * len(scores)) if scores else 0
    if count > 0:
        line = sorted(scores.values())[count - 1]
        ranks = competition_ranks(scores)
        for pk, score in sorted(scores.items(), key=lambda item: (item[1], by_pk[item[0]].code)):
            if score > line:
                break
            reasons[pk].append({
                "reason": FlagReason.BOTTOM.value,
                "text": _("星级评定得分 %(score)s 分，在全区 %(n)d 个参评社区中排第 %(rank)d 名，"
                          "处于排名靠后的 %(share)s 之内。") % {
                    "score": score, "n": len(scores), "rank": ranks[pk], "share": _percent(share)},
                "figure": str(score), "link": rating_url(by_pk[pk], period)})

    months = int(rule["vacancy_months"])
    limit = months * DAYS_PER_MONTH
    floor = _decimal(rule["satisfaction_floor"])
    for area in areas:
        days = values.get(VACANCY, {}).get(area.pk)
        if days is not None and _decimal(days) > limit:
            reasons[area.pk].append({
                "reason": FlagReason.VACANCY.value,
                "text": _("书记岗位已空缺 %(days)s 天，超过 %(months)d 个月（%(limit)d 天）。") % {
                    "days": indicators.format_value(days, indicators.DAYS), "months": months, "limit": limit},
                "figure": _json_value(days), "link": indicators.link(VACANCY, area, period)})
        rate_value = values.get(SATISFACTION, {}).get(area.pk)
        if rate_value is not None and _decimal(rate_value) < floor:
            reasons[area.pk].append({
                "reason": FlagReason.SATISFACTION.value,
                "text": _("群众满意率 %(rate)s，低于 %(floor)s 的底线。") % {
                    "rate": indicators.format_value(rate_value, indicators.PERCENT), "floor": _percent(floor)},
                "figure": indicators.format_value(rate_value, indicators.PERCENT),
                "link": indicators.link(SATISFACTION, area, period)})
    return dict(reasons)


def _store_flags(district: Area, period: Period, areas: Sequence[Area], reasons: dict[int, list[dict]],
                 now: dt.datetime) -> tuple[int, int]:
    """Create or update the period's flags of the rated areas; remove OPEN flags left without a
    reason.  Returns (areas flagged, OPEN flags removed)."""
    rated = {a.pk for a in areas}
    existing = {f.area_id: f for f in Rectification.objects.unscoped().filter(period=period.key, area_id__in=rated)}
    to_create, to_update, to_delete = [], [], []
    for pk in rated:
        found = reasons.get(pk, [])
        flag = existing.get(pk)
        if flag is None:
            if found:
                to_create.append(Rectification(area_id=pk, district=district, period=period.key, reasons=found,
                                               status=FlagStatus.OPEN, flagged_at=now))
        elif not found and flag.status == FlagStatus.OPEN:
            to_delete.append(flag.pk)
        elif flag.reasons != found:
            flag.reasons = found
            to_update.append(flag)
    if to_delete:
        Rectification.objects.unscoped().filter(pk__in=to_delete, status=FlagStatus.OPEN).delete()
    Rectification.objects.unscoped().bulk_create(to_create)
    if to_update:
        Rectification.objects.unscoped().bulk_update(to_update, ["reasons"])
    return sum(1 for pk in rated if reasons.get(pk)), len(to_delete)


def decider_code(flag: Rectification) -> str:
    """The area whose staff decide a flag: one level up (a community's street, a street's district)."""
    area = flag.area
    parent = area.parent
    return parent.code if parent is not None else area.code


def can_rectify(user, flag: Rectification) -> bool:
    return can(user, "oversight.rectify", decider_code(flag))


def _text(value: str, field_name: str, required_message: str) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError({field_name: [required_message]})
    if len(text) > TEXT_MAX:
        raise ValidationError({field_name: [_("内容不能超过 %(n)d 字。") % {"n": TEXT_MAX}]})
    return text


def _ensure_decider(actor, flag: Rectification) -> None:
    if not can_rectify(actor, flag):
        raise PermissionDenied(_("整改由上一级记录：社区的由所在街道或区，街道的由区。"))


@transaction.atomic
def rectification_plan(*, actor, flag: Rectification, plan: str) -> Rectification:
    """The street hub (for a community) or the district records the rectification plan: the flag
    goes to RECTIFYING.  The plan can be revised until the flag is closed."""
    _ensure_decider(actor, flag)
    plan = _text(plan, "plan", _("请填写整改措施。"))
    before = {"status": flag.status, "plan": flag.plan}
    changed = (Rectification.objects.unscoped()
               .filter(pk=flag.pk, status__in=[FlagStatus.OPEN, FlagStatus.RECTIFYING])
               .update(status=FlagStatus.RECTIFYING, plan=plan))
    if changed != 1:
        raise ValidationError(_("该整改已完成验收，不能再修改整改措施。"))
    flag.refresh_from_db()
    audit.record(actor=actor, action="oversight.rectification.plan", obj=flag, before=before,
                 after={"status": flag.status, "plan": plan, "period": flag.period})
    return flag


@transaction.atomic
def rectification_close(*, actor, flag: Rectification, result: str) -> Rectification:
    """Close a flag with the result of the rectification, after a plan was recorded."""
    _ensure_decider(actor, flag)
    result = _text(result, "result", _("请填写整改结果。"))
    now = timezone.now()
    changed = (Rectification.objects.unscoped().filter(pk=flag.pk, status=FlagStatus.RECTIFYING)
               .update(status=FlagStatus.CLOSED, result=result, closed_at=now, closed_by=actor))
    if changed != 1:
        if flag.status == FlagStatus.OPEN:
            raise ValidationError(_("请先记录整改措施，再验收整改结果。"))
        raise ValidationError(_("该整改已经验收完成。"))
    before_status = flag.status
    flag.refresh_from_db()
    audit.record(actor=actor, action="oversight.rectification.close", obj=flag,
                 before={"status": before_status}, after={"status": flag.status, "result": result,
                                                          "period": flag.period})
    return flag


# --- Running in the background -------------------------------------------------------------------

def rate_submit(*, actor, district: Area, period: Period | str) -> Period:
    """Check that `actor` may rate the district for the period and start the rating task when the
    caller's transaction commits (the task rates under the actor and records the audit entry)."""
    from .tasks import rate_district

    period = parse_period(period)
    _check_district(district)
    ensure_can(actor, "oversight.rating.run", district.code)
    check_period(period)
    code, key, actor_id = district.code, period.key, actor.pk
    transaction.on_commit(lambda: rate_district.enqueue(district_code=code, period=key, actor_id=actor_id))
    return period


def recompute_since(today: dt.date | None = None) -> dt.date:
    """From which day on a change of the rating rule applies.  A version can only take effect today
    or later (policy_set refuses past dates), so the version just set or replaced is among those
    not yet past: the earliest of their effective dates is on or before its own."""
    today = today or timezone.localdate()
    pending = (PolicyVersion.objects.filter(key=RATING_KEY, effective_from__gte=today)
               .order_by("effective_from").values_list("effective_from", flat=True).first())
    return pending or today


def recompute_from(since: dt.date) -> list[RunResult]:
    """Re-rate every (district, period) that has ratings and whose period ends on or after `since`;
    ratings of periods that ended before are left exactly as they are."""
    pairs = sorted(set(Rating.objects.unscoped().filter(period_end__gte=since)
                       .values_list("district_id", "period")))
    districts = Area.objects.unscoped().in_bulk({pk for pk, _key in pairs})
    return [rate(districts[pk], Period.parse(key), actor=None) for pk, key in pairs]


def schedule_recompute() -> None:
    """Called when a new version of the rating rule commits (see policy.py): enqueue the task that
    re-rates the periods from its effective date on.  A failure to enqueue is logged, never shown
    to the administrator whose rule is already saved."""
    from .tasks import recompute_ratings

    try:
        recompute_ratings.enqueue(since=recompute_since().isoformat())
    except Exception:
        logger.exception("could not schedule the re-rating after a change of %s", RATING_KEY)
