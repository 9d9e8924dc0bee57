"""The public side of co-building projects: publishing a project on the portal and residents'
ratings (DESIGN §3 cobuild: "residents' rating, public page"; issue 6).

Rules and where they come from:
* staff of the project's street or community ("cobuild.confirm" on its area) publish a running
  or completed project and may withdraw it again; a planned or cancelled one is never public;
* a signed-in resident (portal.ResidentAccount, proven by a code to their phone) rates a
  published, running or completed project 1–5 stars, once — rating again changes their rating;
* the optional comment (≤ 300 characters) is screened like every public text
  (moderation.screen): a held comment is stored hidden and waits in the moderation queue of
  the project's reviewers; released it is shown, rejected it is removed (the stars stay);
* the project's average and count are aggregated from the ratings table while the project row
  is locked, so two residents rating at once cannot lose one another's rating; matching's
  cached unit records (which use the averages) are dropped after commit.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit, personal_numbers
from zhouxin.core.permissions import ensure_can
from zhouxin.moderation import registry as moderation_registry
from zhouxin.moderation import services as moderation
from zhouxin.moderation.screen import screen
from zhouxin.moderation.sources import HeldItemSource

from . import matching
from .choices import ProjectStatus
from .models import Project, Rating

PUBLIC_STATUSES = (ProjectStatus.RUNNING, ProjectStatus.COMPLETED)
COMMENT_MAX = 300
REASON_MAX = 300
HOLD_KIND = "cobuild.rating"
SECTION_LATEST = 10


def is_public(project: Project) -> bool:
    return project.published_at is not None and project.status in PUBLIC_STATUSES


def public_projects():
    """Projects anyone may see on the portal: published, and running or completed."""
    return Project.objects.unscoped().filter(published_at__isnull=False, status__in=PUBLIC_STATUSES)


def hold_key(rating: Rating) -> str:
    return f"{HOLD_KIND}:{rating.pk}"


# --- Publishing ----------------------------------------------------------------------------

@transaction.atomic
def project_publish(*, actor, project: Project) -> Project:
    """Publish a running or completed project on the portal (its public page, residents' ratings)."""
    project = Project.objects.unscoped().select_related("area").get(pk=project.pk)
    ensure_can(actor, "cobuild.confirm", project.area.code)
    if project.status not in PUBLIC_STATUSES:
        raise ValidationError({"status": [_("只有实施中或已完成的项目可以公开。")]})
    now = timezone.now()
    moved = Project.objects.unscoped().filter(pk=project.pk, published_at__isnull=True,
                                              status__in=PUBLIC_STATUSES).update(published_at=now)
    if moved != 1:
        raise ValidationError({"published_at": [_("该项目已经公开。")]})
    project.published_at = now
    audit.record(actor=actor, action="cobuild.project.published", obj=project,
                 before={"published_at": None}, after={"published_at": now, "status": project.status})
    return project


@transaction.atomic
def project_unpublish(*, actor, project: Project, reason: str = "") -> Project:
    """Withdraw a project from the portal; its ratings are kept (and still count for the unit)."""
    project = Project.objects.unscoped().select_related("area").get(pk=project.pk)
    ensure_can(actor, "cobuild.confirm", project.area.code)
    reason = " ".join(str(reason or "").split())
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [_("撤回原因不能超过 %(n)d 个字。") % {"n": REASON_MAX}]})
    before = project.published_at
    moved = Project.objects.unscoped().filter(pk=project.pk, published_at__isnull=False).update(published_at=None)
    if moved != 1:
        raise ValidationError({"published_at": [_("该项目尚未公开。")]})
    project.published_at = None
    audit.record(actor=actor, action="cobuild.project.unpublished", obj=project,
                 before={"published_at": before}, after={"published_at": None, "reason": reason})
    return project


# --- Ratings -------------------------------------------------------------------------------

def _recompute(project_id: int) -> tuple[Decimal | None, int]:
    """The project's average and count, aggregated from the ratings table (never incremented)."""
    row = Rating.objects.filter(project_id=project_id).aggregate(mean=Avg("stars"), n=Count("id"))
    mean = None
    if row["mean"] is not None:
        mean = Decimal(str(row["mean"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    Project.objects.unscoped().filter(pk=project_id).update(rating_average=mean, rating_count=row["n"])
    transaction.on_commit(matching.invalidate_records)
    return mean, row["n"]


def _stars(value) -> int | None:
    """1–5 from an int or a string of digits; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        stars = value
    else:
        text = str(value if value is not None else "").strip()
        if not text.isdigit():
            return None
        stars = int(text)
    return stars if 1 <= stars <= 5 else None


@transaction.atomic
def rate(*, account, project: Project, stars, comment: str = "") -> Rating:
    """Rate a published project as a signed-in resident; a second rating replaces the first."""
    from zhouxin.portal.models import ResidentAccount

    if not isinstance(account, ResidentAccount) or account.pk is None:
        raise PermissionDenied(_("请先登录居民账号再评价。"))
    errors: dict[str, list[str]] = {}
    value = _stars(stars)
    if value is None:
        errors.setdefault("stars", []).append(_("请选择 1 到 5 星。"))
    comment = str(comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors.setdefault("comment", []).append(_("评价不能超过 %(n)d 个字。") % {"n": COMMENT_MAX})
    # The comment is public: a phone or ID number in it is refused, never shown (PIPL).
    if problem := personal_numbers.public_text_problem(comment):
        errors.setdefault("comment", []).append(problem)
    # The project row is locked first: ratings of one project are counted one after the other.
    project = Project.objects.unscoped().select_for_update().filter(pk=project.pk).first()
    if project is None or not is_public(project):
        errors.setdefault("project", []).append(_("该项目未公开或已结束公开，不能评价。"))
    if errors:
        raise ValidationError(errors)

    existing = Rating.objects.filter(project=project, account=account).first()
    unchanged = existing is not None and existing.comment == comment
    verdict = None if unchanged or not comment else screen(comment)
    held = verdict is not None and verdict.hold
    visible = existing.comment_visible if unchanged else not held
    if existing is None:
        try:
            with transaction.atomic():
                rating = Rating.objects.create(project=project, account=account, stars=value, comment=comment,
                                               comment_visible=visible)
        except IntegrityError:  # the constraint names the pair: rated in another tab meanwhile
            existing = Rating.objects.select_for_update().get(project=project, account=account)
    if existing is not None:
        before = {"stars": existing.stars, "comment_visible": existing.comment_visible,
                  "comment_chars": len(existing.comment)}
        existing.stars, existing.comment, existing.comment_visible = value, comment, visible
        existing.save(update_fields=["stars", "comment", "comment_visible", "updated_at"])
        rating = existing
    if held:
        moderation.hold_item(actor=None, kind=HOLD_KIND, source_key=hold_key(rating), area=project.area,
                             text=comment, reasons=verdict.reasons, matched=verdict.matched,
                             title=_("共建项目评价：%(title)s") % {"title": project.title}, content_object=rating)
    mean, count = _recompute(project.pk)
    project.rating_average, project.rating_count = mean, count
    after = {"project": project.pk, "account": account.pk, "stars": value, "comment_chars": len(comment),
             "comment_visible": visible, "held": held, "rating_average": mean, "rating_count": count}
    if existing is None:
        audit.record(actor=None, action="cobuild.rating.created", obj=rating, after=after)
    else:
        audit.record(actor=None, action="cobuild.rating.updated", obj=rating, before=before, after=after)
    return rating


def on_moderation_decision(item, decision: str) -> None:
    """The reviewer's decision on a held comment (moderation registry reactor, in the reviewer's
    transaction): released, it is shown; rejected, it is removed and the stars stay.  A decision
    about a text the resident has replaced since changes nothing."""
    raw = item.source_key.rpartition(":")[2]
    if not raw.isdigit():
        return
    rating = Rating.objects.select_for_update().filter(pk=int(raw)).first()
    if rating is None or rating.comment != item.excerpt:
        return
    before = {"comment_visible": rating.comment_visible, "comment_chars": len(rating.comment)}
    if decision == moderation_registry.RELEASED:
        rating.comment_visible = True
        action = "cobuild.rating.comment_released"
    else:
        rating.comment, rating.comment_visible = "", True
        action = "cobuild.rating.comment_removed"
    rating.save(update_fields=["comment", "comment_visible", "updated_at"])
    audit.record(actor=item.decided_by, action=action, obj=rating, before=before,
                 after={"comment_visible": rating.comment_visible, "comment_chars": len(rating.comment),
                        "moderation_item": item.pk})


def rating_deleted(sender, instance: Rating, **kwargs) -> None:
    """A rating gone with its resident's account (PIPL deletion, portal.account_delete): the
    project's figures are aggregated again in the same transaction."""
    _recompute(instance.project_id)


class RatingSource(HeldItemSource):
    """Residents' comments on co-building projects held by the screen, for the reviewers of the
    project's area; decisions go through moderation's services, which call on_moderation_decision."""

    key = "cobuild-ratings"
    label = gettext_lazy("共建项目评价")
    release_label = gettext_lazy("放行公开")
    reject_label = gettext_lazy("删除评价内容")
    item_kinds = (HOLD_KIND,)

    def link(self, obj) -> str:
        if not obj.object_id.isdigit():
            return ""
        project_id = Rating.objects.filter(pk=int(obj.object_id)).values_list("project_id", flat=True).first()
        return reverse("cobuild:project_detail", args=[project_id]) if project_id is not None else ""


# --- What the portal shows -----------------------------------------------------------------

def published_project_pages() -> dict[str, str]:
    """The public project pages, for the integrity monitor (core.public_pages)."""
    return {reverse("cobuild_public:project", args=[pk]): title
            for pk, title in public_projects().order_by("pk").values_list("pk", "title")}


def community_section(area) -> dict | None:
    """The co-building section of a community's public page (core.public_sections): its
    published projects with their rating; nothing when there are none."""
    from zhouxin.orgs.choices import AreaLevel

    if area.level != AreaLevel.COMMUNITY:
        return None
    projects = list(public_projects().filter(area=area).order_by("-published_at", "-id")
                    .only("id", "title", "status", "rating_average", "rating_count", "published_at")[:SECTION_LATEST])
    if not projects:
        return None
    return {"projects": projects}


def personal_data_export(account) -> list[dict]:
    """The account's project ratings, for the resident's export (portal.personal_data)."""
    return [{"project": r.project.title, "stars": r.stars, "comment": r.comment,
             "rated_at": timezone.localtime(r.updated_at).isoformat()}
            for r in Rating.objects.filter(account=account).select_related("project").order_by("created_at", "pk")]


def personal_data_erase(account) -> None:
    """Nothing to do before the account goes: its ratings are deleted with it (CASCADE) and
    rating_deleted recounts each project's average."""
