"""The moderation pages: the queue of held content (接诉即办 › 内容审核) and the lexicon
(系统管理 › 敏感词库).  Views validate and delegate to services (or to a source, which
calls its domain's services); reads are scoped by the sources and selectors."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from zhouxin.core.actions import errors_into_form
from zhouxin.core.decorators import staff_view

from . import registry, selectors, services
from .choices import LexiconCategory, LexiconKind
from .forms import ImportForm, RejectForm, ReleaseForm, ScreenTestForm, TermForm
from .normalise import normalise
from .screen import screen

PAGE_SIZE = 25
LEXICON_PAGE_SIZE = 50
ACTIONS = ("release", "reject")


# --- Queue -------------------------------------------------------------------------------

@staff_view("moderation.review")
@require_GET
def queue(request):
    tabs = [(source, source.held(request.user).count()) for source in registry.sources()]
    wanted = request.GET.get("source", "")
    current = next((s for s, _n in tabs if s.key == wanted), None)
    if current is None:
        current = next((s for s, n in tabs if n), tabs[0][0] if tabs else None)
    page = entries = None
    if current is not None:
        page = Paginator(current.held(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
        entries = [current.entry(obj) for obj in page]
    return render(request, "moderation/queue.html", {
        "tabs": tabs, "current": current, "page": page, "entries": entries,
        "page_range": page.paginator.get_elided_page_range(page.number) if page else (),
    })


@staff_view("moderation.review")
@require_http_methods(["GET", "POST"])
def decide(request, source: str, key: int, action: str):
    found = registry.source(source)
    if found is None or action not in ACTIONS:
        raise Http404
    obj = found.get(request.user, str(key))
    if obj is None:
        raise Http404
    form_class = ReleaseForm if action == "release" else RejectForm
    form = form_class(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        note = form.cleaned_data["note"]
        try:
            if action == "release":
                found.release(actor=request.user, obj=obj, note=note)
            else:
                found.reject(actor=request.user, obj=obj, reason=note)
        except PermissionDenied:
            raise
        except ValidationError as error:
            errors_into_form(form, error)
        else:
            entry = found.entry(obj)
            if action == "release":
                messages.success(request, _("“%(title)s”已审核通过。") % {"title": entry.title})
            else:
                messages.success(request, _("“%(title)s”已驳回，不会发布。") % {"title": entry.title})
            return redirect(f"{reverse('moderation:queue')}?source={found.key}")
    return render(request, "moderation/decide.html", {
        "source": found, "entry": found.entry(obj), "action": action, "form": form,
        "button": found.release_label if action == "release" else found.reject_label,
    }, status=422 if form.errors else 200)


# --- Lexicon ------------------------------------------------------------------------------

def _lexicon_page(request, *, add_form=None, status=200):
    filters = selectors.LexiconFilters.from_query(request.GET)
    entries = selectors.lexicon_entries(filters)
    page = Paginator(entries, LEXICON_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "moderation/lexicon.html", {
        "page": page, "page_range": page.paginator.get_elided_page_range(page.number), "filters": filters,
        "categories": LexiconCategory.choices, "kinds": LexiconKind.choices,
        "form": add_form or TermForm(initial={"kind": LexiconKind.KEYWORD}),
        "counts": selectors.lexicon_counts(),
    }, status=status)


@staff_view("moderation.lexicon.edit")
@require_GET
def lexicon(request):
    return _lexicon_page(request)


@staff_view("moderation.lexicon.edit")
@require_POST
def lexicon_add(request):
    form = TermForm(request.POST)
    if form.is_valid():
        try:
            entry = services.lexicon_add(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_into_form(form, error)
        else:
            messages.success(request, _("已添加“%(term)s”，新提交的内容即按此筛查。") % {"term": entry.term})
            return redirect("moderation:lexicon")
    return _lexicon_page(request, add_form=form, status=422)


@staff_view("moderation.lexicon.edit")
@require_http_methods(["GET", "POST"])
def lexicon_import(request):
    form = ImportForm(request.POST if request.method == "POST" else None,
                      initial={"kind": LexiconKind.KEYWORD})
    if request.method == "POST" and form.is_valid():
        try:
            result = services.lexicon_import(actor=request.user, **form.cleaned_data)
        except ValidationError as error:
            errors_into_form(form, error)
        else:
            message = _("已导入 %(n)d 个词条。") % {"n": len(result.added)}
            if result.duplicates:
                message += _("已在词库中而跳过 %(n)d 个：%(terms)s") % {
                    "n": len(result.duplicates), "terms": "、".join(result.duplicates[:20])}
            messages.success(request, message)
            return redirect("moderation:lexicon")
    return render(request, "moderation/lexicon_import.html", {"form": form}, status=422 if form.errors else 200)


@staff_view("moderation.lexicon.edit")
@require_POST
def lexicon_toggle(request, pk: int):
    entry = get_object_or_404(selectors.lexicon_entries(selectors.LexiconFilters()), pk=pk)
    entry = services.lexicon_set_active(actor=request.user, entry=entry, active=not entry.active)
    if entry.active:
        messages.success(request, _("已启用“%(term)s”。") % {"term": entry.term})
    else:
        messages.success(request, _("已停用“%(term)s”，不再据此筛查。") % {"term": entry.term})
    return redirect(request.POST.get("next") if _safe_next(request.POST.get("next")) else "moderation:lexicon")


def _safe_next(url) -> bool:
    return bool(url) and url.startswith(reverse("moderation:lexicon")) and "//" not in url


@staff_view("moderation.lexicon.edit")
@require_http_methods(["GET", "POST"])
def lexicon_delete(request, pk: int):
    entry = get_object_or_404(selectors.lexicon_entries(selectors.LexiconFilters()), pk=pk)
    if request.method == "POST":
        services.lexicon_delete(actor=request.user, entry=entry)
        messages.success(request, _("已删除“%(term)s”。") % {"term": entry.term})
        return redirect("moderation:lexicon")
    return render(request, "moderation/lexicon_delete.html", {"entry": entry})


@staff_view("moderation.lexicon.edit")
@require_http_methods(["GET", "POST"])
def lexicon_test(request):
    form = ScreenTestForm(request.POST if request.method == "POST" else None)
    verdict = normalised = None
    if request.method == "POST" and form.is_valid():
        verdict = screen(form.cleaned_data["text"])
        normalised = normalise(form.cleaned_data["text"])
    return render(request, "moderation/lexicon_test.html", {
        "form": form, "verdict": verdict, "normalised": normalised,
    }, status=422 if form.errors else 200)
