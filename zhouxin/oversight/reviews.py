"""Secretaries' yearly report and review (述职评议考核, issue 11 item 2).

    open (one level up) → [refresh figures] → report (the secretary) → submit → scores
    (reviewers one level up or the district) → finalise (one level up): score and grade

Rules and where they come from:

* the level rule of the oversight contract: a community's review is opened and finalised by its
  street (street hub) or the district, a street's by the district ("oversight.review.manage"
  held on a node *above* the area); one review per area and year (a database constraint);
* the report is written by the secretary: the street hub for a street, the community staff for
  a community ("oversight.review.report" with that role on the area); plain text, at least
  REPORT_MIN characters when it is given;
* the figures are never typed: `figures` is a snapshot of every registered indicator
  (core.indicators) for the area and the year, taken when the review is opened, refreshed on
  demand while the review is a draft, taken a last time when the report is given and frozen from
  then on.  Each figure keeps the link to the records behind it;
* reviewers ("oversight.review.score") are one level up or the district, never the area's own
  staff; one score each (0–100, a database constraint too), only while the review is SUBMITTED;
* finalising needs at least `minimum_reviewers` scores (policy "oversight.review" of the area's
  city); the score is their mean (two decimals, ROUND_HALF_UP) and the grade follows the policy's
  lines: 好 ≥ good, 较好 ≥ fairly_good, 一般 ≥ average, else 差.

Every write locks the review row and is audited in the same transaction.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhouxin.core import audit, indicators
from zhouxin.core import policy as policy_store
from zhouxin.core.choices import AREA_ROLES, Role
from zhouxin.core.permissions import roles_for
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .choices import ReviewGrade, ReviewStatus
from .models import ReviewScore, SecretaryReview
from .policy import REVIEW_KEY

REVIEWED_LEVELS = (AreaLevel.STREET, AreaLevel.COMMUNITY)
SECRETARY_MAX = 64
REPORT_MAX = 20000
REPORT_MIN = 50
COMMENT_MAX = 500
SCORE_MAX = Decimal("100")
CENT = Decimal("0.01")
FIRST_YEAR = 2000
# Figures are stored with their Chinese labels; pages show the registry's (translated) title.
STORE_LANGUAGE = "zh-hans"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u2028\u2029\u2060-\u2064\ufeff]")


# --- Who may do what (the level rule) -------------------------------------------------------

def _area_grants(user) -> list[tuple[str, str]]:
    scope = scope_for_user(user)
    return [(role, prefix) for role, prefixes in scope.prefixes_by_role.items() if role in AREA_ROLES
            for prefix in prefixes]


def holds_above(user, permission: str, area: Area) -> bool:
    """`user` holds `permission` through a grant on a node strictly above `area` (its street, its
    district): "one level up or the district"."""
    roles = roles_for(permission)
    return any(role in roles and len(prefix) < len(area.code) and area.code.startswith(prefix)
               for role, prefix in _area_grants(user))


def is_own_staff(user, area: Area) -> bool:
    """`user` has a grant on `area` itself or inside it (its staff, its communities' staff)."""
    return any(prefix.startswith(area.code) for _role, prefix in _area_grants(user))


def reporter_role(area: Area) -> str:
    """The role of the secretary who reports: the street hub for a street, community staff for a community."""
    return Role.STREET_HUB if area.level == AreaLevel.STREET else Role.COMMUNITY_STAFF


def can_manage(user, review: SecretaryReview) -> bool:
    return holds_above(user, "oversight.review.manage", review.area)


def can_report(user, review: SecretaryReview) -> bool:
    role = reporter_role(review.area)
    if role not in roles_for("oversight.review.report"):
        return False
    return any(r == role and review.area.code.startswith(prefix) for r, prefix in _area_grants(user))


def can_score(user, review: SecretaryReview) -> bool:
    return holds_above(user, "oversight.review.score", review.area) and not is_own_staff(user, review.area)


def openable_areas(user):
    """Streets and communities whose review `user` may open (one level up or the district)."""
    from functools import reduce
    from operator import or_

    from django.db.models import Q

    roles = roles_for("oversight.review.manage")
    parts = [Q(code__startswith=prefix) & ~Q(code=prefix) for role, prefix in _area_grants(user) if role in roles]
    if not parts:
        return Area.objects.unscoped().none()
    return (Area.objects.unscoped().filter(reduce(or_, parts), level__in=REVIEWED_LEVELS, is_active=True)
            .order_by("code"))


# --- Rules in force ---------------------------------------------------------------------------

def city_of(area: Area) -> Area | None:
    """The city-level ancestor (review rules are per city), or None for the national rule."""
    return Area.objects.unscoped().filter(code=area.code[:4], level=AreaLevel.CITY).first()


def review_rule(area: Area) -> dict:
    return policy_store.get(REVIEW_KEY, city=city_of(area))


def grade_for(score: Decimal, rule: dict) -> str:
    """The grade of a score under the policy's lines (a line is reached at exactly its value)."""
    if score >= Decimal(str(rule["good"])):
        return ReviewGrade.GOOD
    if score >= Decimal(str(rule["fairly_good"])):
        return ReviewGrade.FAIRLY_GOOD
    if score >= Decimal(str(rule["average"])):
        return ReviewGrade.AVERAGE
    return ReviewGrade.POOR


def mean_score(scores) -> Decimal:
    scores = [Decimal(s) for s in scores]
    return (sum(scores) / len(scores)).quantize(CENT, rounding=ROUND_HALF_UP)


# --- The platform's figures -------------------------------------------------------------------

def figures_for(area: Area, year: int) -> list[dict]:
    """Every registered indicator for `area` and the calendar year: [{name, title, domain, unit,
    value (a string, or None when the platform has no figure), shown, link}]."""
    period = indicators.Period.year(year)
    registered = indicators.indicators()
    values = indicators.compute_many([i.name for i in registered], [area], period)
    out = []
    with translation.override(STORE_LANGUAGE):
        for item in registered:
            value = values.get(item.name, {}).get(area.pk)
            out.append({
                "name": item.name, "title": str(item.title), "domain": str(item.domain), "unit": item.unit,
                "value": None if value is None else str(value), "shown": item.format(value),
                "link": indicators.link(item.name, area, period),
            })
    return out


def figures_shown(review: SecretaryReview) -> list[dict]:
    """The stored figures for a page: the registry's title in the reader's language where the
    indicator is still registered, the stored one otherwise."""
    rows = []
    for item in review.figures or []:
        name = item.get("name", "")
        live = indicators.get(name) if indicators.exists(name) else None
        rows.append({**item, "title": str(live.title) if live else item.get("title", name),
                     "domain": str(live.domain) if live else item.get("domain", ""),
                     "unit_label": str(indicators.UNITS.get(item.get("unit"), ""))})
    return rows


# --- Helpers -----------------------------------------------------------------------------------

def clean_text(value) -> str:
    """Plain text as typed, without control or invisible characters, with one kind of line break."""
    text = unicodedata.normalize("NFC", str(value or "")).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def _locked(review: SecretaryReview) -> SecretaryReview:
    return (SecretaryReview.objects.unscoped().select_for_update(of=("self",)).select_related("area")
            .get(pk=review.pk))


def _refresh(review: SecretaryReview, current: SecretaryReview) -> None:
    for field in current._meta.concrete_fields:
        setattr(review, field.attname, getattr(current, field.attname))


def _snapshot(review: SecretaryReview) -> dict:
    return {"area": review.area.code, "year": review.year, "secretary": review.secretary, "status": review.status,
            "score": str(review.score) if review.score is not None else None, "grade": review.grade,
            "report_chars": len(review.report), "figures_at": review.figures_at}


def _figure_values(figures) -> dict:
    return {item.get("name"): item.get("value") for item in figures or []}


def _require_status(current: SecretaryReview, status: str, message: str) -> None:
    if current.status != status:
        raise ValidationError(message % {"status": current.get_status_display()})


# --- Open, refresh, report, submit -------------------------------------------------------------

@transaction.atomic
def review_open(*, actor, area: Area, year: int, secretary: str) -> SecretaryReview:
    """Open the yearly review of a street (by the district) or a community (by its street or the
    district), with the platform's figures of that year."""
    area = Area.objects.unscoped().get(pk=area.pk)
    errors: dict[str, list[str]] = {}
    if area.level not in REVIEWED_LEVELS or not area.is_active:
        raise ValidationError({"area": [_("述职评议只针对启用中的街道和社区书记。")]})
    if not holds_above(actor, "oversight.review.manage", area):
        raise PermissionDenied(_("街道书记的述职评议由区级发起，社区书记的由街道或区级发起。"))
    today = timezone.localdate()
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = 0
    if not FIRST_YEAR <= year <= today.year:
        errors.setdefault("year", []).append(
            _("年度应在 %(first)d 年到 %(last)d 年之间。") % {"first": FIRST_YEAR, "last": today.year})
    secretary = clean_text(secretary)
    if not secretary:
        errors.setdefault("secretary", []).append(_("请填写书记姓名。"))
    elif len(secretary) > SECRETARY_MAX:
        errors.setdefault("secretary", []).append(_("书记姓名不能超过 %(n)d 个字。") % {"n": SECRETARY_MAX})
    if not errors and SecretaryReview.objects.unscoped().filter(area=area, year=year).exists():
        errors.setdefault("year", []).append(_("%(area)s%(year)d年度已有述职评议。") % {"area": area.name, "year": year})
    if errors:
        raise ValidationError(errors)
    review = SecretaryReview(area=area, year=year, secretary=secretary, figures=figures_for(area, year),
                             figures_at=timezone.now(), created_by=actor)
    try:
        with transaction.atomic():
            review.save(force_insert=True)
    except IntegrityError:  # opened at the same moment by someone else
        raise ValidationError({"year": [_("%(area)s%(year)d年度已有述职评议。") % {"area": area.name, "year": year}]}) \
            from None
    audit.record(actor=actor, action="oversight.review.opened", obj=review,
                 after={**_snapshot(review), "figures": _figure_values(review.figures)})
    return review


@transaction.atomic
def review_refresh(*, actor, review: SecretaryReview) -> SecretaryReview:
    """Take the platform's figures again (until the report is given; then they are frozen)."""
    current = _locked(review)
    if not (can_manage(actor, current) or can_report(actor, current)):
        raise PermissionDenied(_("您没有权限执行此操作。"))
    _require_status(current, ReviewStatus.DRAFT, _("述职评议状态为“%(status)s”，平台数据已在述职时冻结，不能再刷新。"))
    before = _figure_values(current.figures)
    current.figures, current.figures_at = figures_for(current.area, current.year), timezone.now()
    current.save(update_fields=["figures", "figures_at"])
    after = _figure_values(current.figures)
    audit.record(actor=actor, action="oversight.review.figures_refreshed", obj=current, before={"figures": before},
                 after={"figures": after, "figures_at": current.figures_at,
                        "changed": sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))})
    _refresh(review, current)
    return review


def _report_text(report) -> str:
    text = clean_text(report)
    if len(text) > REPORT_MAX:
        raise ValidationError({"report": [_("述职报告不能超过 %(n)d 个字（现有 %(count)d 字）。")
                                          % {"n": REPORT_MAX, "count": len(text)}]})
    return text


@transaction.atomic
def review_save_report(*, actor, review: SecretaryReview, report: str) -> SecretaryReview:
    """The secretary writes (or rewrites) the report while the review is a draft.  Plain text;
    figures are not part of it: they come from the platform."""
    current = _locked(review)
    if not can_report(actor, current):
        raise PermissionDenied(_("述职报告由本街道（社区）书记撰写。"))
    _require_status(current, ReviewStatus.DRAFT, _("述职评议状态为“%(status)s”，述职报告不能再修改。"))
    text = _report_text(report)
    before = {"report_chars": len(current.report), "report_sha256": hashlib.sha256(current.report.encode()).hexdigest()}
    current.report = text
    current.save(update_fields=["report"])
    audit.record(actor=actor, action="oversight.review.report_saved", obj=current, before=before,
                 after={"report_chars": len(text), "report_sha256": hashlib.sha256(text.encode()).hexdigest()})
    _refresh(review, current)
    return review


@transaction.atomic
def review_submit(*, actor, review: SecretaryReview) -> SecretaryReview:
    """Give the report (述职): the figures are taken a last time and frozen, the reviewers can score."""
    current = _locked(review)
    if not can_report(actor, current):
        raise PermissionDenied(_("述职报告由本街道（社区）书记提交。"))
    _require_status(current, ReviewStatus.DRAFT, _("述职评议状态为“%(status)s”，不能再提交述职。"))
    if len(current.report) < REPORT_MIN:
        raise ValidationError({"report": [_("述职报告至少 %(n)d 个字（现有 %(count)d 字），请先写好并保存。")
                                          % {"n": REPORT_MIN, "count": len(current.report)}]})
    before = _snapshot(current)
    now = timezone.now()
    current.figures, current.figures_at = figures_for(current.area, current.year), now
    current.status, current.submitted_at = ReviewStatus.SUBMITTED, now
    current.save(update_fields=["figures", "figures_at", "status", "submitted_at"])
    audit.record(actor=actor, action="oversight.review.submitted", obj=current, before=before,
                 after={**_snapshot(current), "figures": _figure_values(current.figures),
                        "report_sha256": hashlib.sha256(current.report.encode()).hexdigest()})
    _refresh(review, current)
    return review


# --- Scores and the grade -------------------------------------------------------------------------

def _score_value(value) -> Decimal:
    try:
        score = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        raise ValidationError({"score": [_("评分应为 0 到 100 之间的数，如 86 或 88.5。")]}) from None
    if not score.is_finite() or score < 0 or score > SCORE_MAX:
        raise ValidationError({"score": [_("评分应在 0 到 100 之间。")]})
    if score != score.quantize(CENT):
        raise ValidationError({"score": [_("评分最多保留两位小数。")]})
    return score.quantize(CENT)


@transaction.atomic
def review_score(*, actor, review: SecretaryReview, score, comment: str = "") -> ReviewScore:
    """A reviewer's score (0–100) with a comment: one level up or the district, never the area's
    own staff; one score each; only while the review is being scored."""
    current = _locked(review)
    if not can_score(actor, current):
        raise PermissionDenied(_("评议人应为上一级或区级的同志，本街道（社区）的工作人员不参加评分。"))
    _require_status(current, ReviewStatus.SUBMITTED, _("述职评议状态为“%(status)s”，不在评议中，不能评分。"))
    value = _score_value(score)
    comment = clean_text(comment)
    if len(comment) > COMMENT_MAX:
        raise ValidationError({"comment": [_("评议意见不能超过 %(n)d 个字。") % {"n": COMMENT_MAX}]})
    if ReviewScore.objects.unscoped().filter(review=current, reviewer=actor).exists():
        raise ValidationError(_("您已对这份述职评过分。"))
    item = ReviewScore(review=current, reviewer=actor, score=value, comment=comment)
    item.save(force_insert=True)
    audit.record(actor=actor, action="oversight.review.scored", obj=current,
                 after={"score": str(value), "comment": comment, "reviewer": actor.pk})
    return item


@transaction.atomic
def review_finalise(*, actor, review: SecretaryReview) -> SecretaryReview:
    """Set the score (mean of the reviewers' scores) and the grade, once enough reviewers have
    scored (policy "oversight.review", minimum_reviewers)."""
    current = _locked(review)
    if not can_manage(actor, current):
        raise PermissionDenied(_("等次由上一级（街道或区级）确定。"))
    _require_status(current, ReviewStatus.SUBMITTED, _("述职评议状态为“%(status)s”，不能确定等次。"))
    rule = review_rule(current.area)
    scores = list(ReviewScore.objects.unscoped().filter(review=current).values_list("score", flat=True))
    minimum = int(rule["minimum_reviewers"])
    if len(scores) < minimum:
        raise ValidationError(_("至少须有 %(min)d 位评议人评分才能确定等次，现有 %(count)d 位。")
                              % {"min": minimum, "count": len(scores)})
    before = _snapshot(current)
    current.score = mean_score(scores)
    current.grade = grade_for(current.score, rule)
    current.status = ReviewStatus.FINAL
    current.finalised_by, current.finalised_at = actor, timezone.now()
    current.save(update_fields=["score", "grade", "status", "finalised_by", "finalised_at"])
    audit.record(actor=actor, action="oversight.review.finalised", obj=current, before=before,
                 after={**_snapshot(current), "reviewers": len(scores),
                        "lines": {k: str(rule[k]) for k in ("good", "fairly_good", "average")}})
    _refresh(review, current)
    return review
