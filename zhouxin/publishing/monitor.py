"""One run of the integrity monitor (`manage.py verify_published`): compare the files with the
baseline, re-render every watched page four ways, and record the findings (services)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from zhouxin.core import public_pages
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from . import integrity, services
from .choices import NoticeStatus, PageKind
from .models import PublishedPage
from .policy import allowed_hosts


def portal_pages() -> dict[str, str]:
    """The portal's dynamic public pages: the list of streets, each street and each community,
    and the pages the domains publish (core.public_pages: co-building projects, …)."""
    pages = {reverse("portal:communities"): _("社区公开信息")}
    for area in Area.objects.unscoped().filter(level__in=[AreaLevel.STREET, AreaLevel.COMMUNITY], is_active=True) \
            .only("code", "name", "level").order_by("code"):
        name = "portal:street" if area.level == AreaLevel.STREET else "portal:community"
        pages[reverse(name, args=[area.code])] = area.name
    for path, label in public_pages.collect().items():
        pages.setdefault(path, label)
    return pages


def run(*, portal: bool = True) -> services.RunResult:
    files_now = integrity.manifest()
    baseline = services.baseline()
    recorded = False
    if not baseline:
        # First verification: what is on disk now becomes the baseline (also `integrity_baseline`).
        services.baseline_record(actor=None, files=files_now)
        baseline = {k: e.sha256 for k, e in files_now.items()}
        recorded = True
    changes = integrity.compare(baseline, files_now)
    if portal:
        services.portal_pages_sync(pages=portal_pages())
    pages = PublishedPage.objects.select_related("notice").order_by("kind", "path")
    if not portal:
        pages = pages.exclude(kind=PageKind.PORTAL)
    allowed = allowed_hosts()
    checks = []
    with integrity.recording_templates():
        for page in pages:
            if page.kind == PageKind.NOTICE and (page.notice is None or page.notice.status not in
                                                 (NoticeStatus.PUBLISHED, NoticeStatus.WITHHELD)):
                continue
            approved = page.approved_hash if page.kind == PageKind.NOTICE else None
            checks.append((page, integrity.check_page(page.path, approved_hash=approved, allowed=allowed,
                                                      search_words=page.label)))
    return services.pages_record_results(checks=checks, files=changes, baseline_recorded=recorded)
