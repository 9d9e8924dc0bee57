"""Staff pages of the secretaries' review (述职评议考核): the list, opening a review, a review's
page (the platform's figures with links to their records, the report, the scores and the grade)
and its actions.

Reviews are fetched through the scoped manager (another area's review is 404); a role without
the permission an action needs is 403.  The rules live in reviews.py.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form, flash_errors
from zhouxin.core.decorators import staff_view
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs.models import Area

from . import reviews
from .choices import ReviewGrade, ReviewStatus
from .forms_reviews import ReportForm, ReviewFilterForm, ReviewOpenForm, ScoreForm
from .models import ReviewScore, SecretaryReview

PER_PAGE = 30


def _review(user, pk: int) -> SecretaryReview:
    return get_object_or_404(SecretaryReview.objects.restrict(user).select_related(
        "area__parent", "created_by", "finalised_by"), pk=pk)


def _detail_url(review: SecretaryReview) -> str:
    return reverse("oversight:review_detail", args=[review.pk])


@staff_view("oversight.view")
@require_GET
def review_list(request):
    user = request.user
    filters = ReviewFilterForm(request.GET or None)
    rows = SecretaryReview.objects.restrict(user).select_related("area__parent").annotate(n_scores=Count("scores"))
    year = status = ""
    if filters.is_valid():
        year = filters.cleaned_data["year"] or ""
        status = filters.cleaned_data["status"] or ""
        if year:
            rows = rows.filter(year=year)
        if status:
            rows = rows.filter(status=status)
    paginator = Paginator(rows.order_by("-year", "area__code"), PER_PAGE)
    page = paginator.get_page(request.GET.get("page"))
    items = list(page.object_list)
    scored = set(ReviewScore.objects.unscoped().filter(reviewer=user, review__in=[r.pk for r in items])
                 .values_list("review_id", flat=True))
    for row in items:
        row.awaits_me = (row.status == ReviewStatus.SUBMITTED and row.pk not in scored
                         and reviews.can_score(user, row))
    years = list(SecretaryReview.objects.restrict(user).order_by("-year").values_list("year", flat=True).distinct())
    return render(request, "oversight/reviews/list.html", {
        "page": page, "items": items,
        "page_range": paginator.get_elided_page_range(page.number, on_each_side=1, on_ends=1),
        "statuses": ReviewStatus.choices, "status": status, "year": year, "years": years,
        "can_create": reviews.openable_areas(user).exists(),
    })


@staff_view("oversight.review.manage")
@require_http_methods(["GET", "POST"])
def review_create(request):
    user = request.user
    if request.method == "POST":
        code = str(request.POST.get("area", ""))
        area = Area.objects.unscoped().filter(code=code).only("code").first()
        if area is not None and not scope_for_user(user).covers(area.code):
            raise Http404  # an area outside the caller's scope does not exist for them
    form = ReviewOpenForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = reviews.review_open(actor=user, area=data["area"], year=data["year"], secretary=data["secretary"])
        except ValidationError as exc:
            errors_into_form(form, exc)
        except PermissionDenied as exc:
            form.add_error("area", str(exc))
        else:
            messages.success(request, _("已发起%(area)s%(year)d年度书记述职评议，平台数据已自动提取。")
                             % {"area": review.area.name, "year": review.year})
            return redirect(_detail_url(review))
    return render(request, "oversight/reviews/form.html", {"form": form},
                  status=422 if request.method == "POST" else 200)


def _detail(request, review: SecretaryReview, *, bound: dict | None = None, status: int = 200):
    user = request.user
    bound = bound or {}
    may_manage = reviews.can_manage(user, review)
    may_report = reviews.can_report(user, review)
    may_score = reviews.can_score(user, review)
    scores = list(ReviewScore.objects.unscoped().filter(review=review).select_related("reviewer").order_by("at", "id"))
    mine = next((s for s in scores if s.reviewer_id == user.pk), None)
    rule = reviews.review_rule(review.area)
    minimum = int(rule["minimum_reviewers"])
    draft = review.status == ReviewStatus.DRAFT
    submitted = review.status == ReviewStatus.SUBMITTED
    actions = {
        "refresh": draft and (may_manage or may_report),
        "report": draft and may_report,
        "submit": draft and may_report,
        "score": submitted and may_score and mine is None,
        "finalise": submitted and may_manage,
        "finalise_ready": len(scores) >= minimum,
    }
    return render(request, "oversight/reviews/detail.html", {
        "review": review, "figures": reviews.figures_shown(review), "actions": actions,
        "scores": scores if may_manage else ([mine] if mine else []), "score_count": len(scores),
        "show_all_scores": may_manage, "mine": mine, "minimum": minimum,
        "lines": [(ReviewGrade.GOOD.label, rule["good"]), (ReviewGrade.FAIRLY_GOOD.label, rule["fairly_good"]),
                  (ReviewGrade.AVERAGE.label, rule["average"])],
        "report_min": reviews.REPORT_MIN, "may_report": may_report,
        "score_form": bound.get("score") or ScoreForm(prefix="s"),
    }, status=status)


@staff_view("oversight.view")
@require_GET
def review_detail(request, pk: int):
    return _detail(request, _review(request.user, pk))


@staff_view("oversight.view")
@require_POST
def review_refresh(request, pk: int):
    review = _review(request.user, pk)
    if not (reviews.can_manage(request.user, review) or reviews.can_report(request.user, review)):
        raise PermissionDenied
    try:
        reviews.review_refresh(actor=request.user, review=review)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("平台数据已重新提取。"))
    return redirect(_detail_url(review))


@staff_view("oversight.view")
@require_http_methods(["GET", "POST"])
def review_report(request, pk: int):
    user = request.user
    review = _review(user, pk)
    if not reviews.can_report(user, review):
        raise PermissionDenied
    form = ReportForm(request.POST or None, initial={"report": review.report})
    if request.method == "POST" and form.is_valid():
        saved = False
        try:
            reviews.review_save_report(actor=user, review=review, report=form.cleaned_data["report"])
            saved = True
            if "and_submit" in request.POST:
                reviews.review_submit(actor=user, review=review)
        except ValidationError as exc:
            errors_into_form(form, exc)
            if saved:
                messages.info(request, _("述职报告已保存，但尚未提交。"))
        else:
            if review.status == ReviewStatus.SUBMITTED:
                messages.success(request, _("已述职。平台数据已按述职时的业务记录冻结，评议人可以评分。"))
            else:
                messages.success(request, _("述职报告已保存。"))
            return redirect(_detail_url(review))
    return render(request, "oversight/reviews/report.html", {
        "review": review, "form": form, "figures": reviews.figures_shown(review),
        "editable": review.status == ReviewStatus.DRAFT, "report_min": reviews.REPORT_MIN,
    }, status=422 if request.method == "POST" else 200)


@staff_view("oversight.view")
@require_POST
def review_submit(request, pk: int):
    review = _review(request.user, pk)
    if not reviews.can_report(request.user, review):
        raise PermissionDenied
    try:
        reviews.review_submit(actor=request.user, review=review)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已述职。平台数据已按述职时的业务记录冻结，评议人可以评分。"))
    return redirect(_detail_url(review))


@staff_view("oversight.view")
@require_POST
def review_score(request, pk: int):
    review = _review(request.user, pk)
    if not reviews.can_score(request.user, review):
        raise PermissionDenied
    form = ScoreForm(request.POST, prefix="s")
    if form.is_valid():
        try:
            reviews.review_score(actor=request.user, review=review, **form.cleaned_data)
        except ValidationError as exc:
            errors_into_form(form, exc)
        else:
            messages.success(request, _("评分已提交。"))
            return redirect(_detail_url(review))
    flash_errors(request, form)
    return _detail(request, review, bound={"score": form}, status=422)


@staff_view("oversight.view")
@require_POST
def review_finalise(request, pk: int):
    review = _review(request.user, pk)
    if not reviews.can_manage(request.user, review):
        raise PermissionDenied
    try:
        reviews.review_finalise(actor=request.user, review=review)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, _("已确定等次：%(grade)s（%(score)s 分）。")
                         % {"grade": review.get_grade_display(), "score": review.score})
    return redirect(_detail_url(review))
