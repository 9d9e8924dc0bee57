from django.conf import settings
from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("", include("zhouxin.core.urls")),
    path("orgs/", include("zhouxin.orgs.urls")),
    path("dispatch/", include("zhouxin.dispatch.urls")),
    path("api/", include("zhouxin.api.urls")),
    path("open311/v2/", include("zhouxin.api.open311.urls")),
    # Published co-building projects: public pages inside the portal (withheld-page middleware, monitor).
    path("portal/projects/", include("zhouxin.cobuild.urls_public")),
    # Volunteering on the portal (activities, sign-up, QR check-in, wishes, 双报到).
    path("portal/volunteer/", include("zhouxin.volunteers.urls_public")),
    path("portal/disclosures/", include("zhouxin.funds.urls_public")),
    path("portal/centres/", include("zhouxin.centers.urls_public")),
    path("portal/", include("zhouxin.portal.urls")),
    path("moderation/", include("zhouxin.moderation.urls")),
    path("conferences/", include("zhouxin.conferences.urls")),
    path("cobuild/", include("zhouxin.cobuild.urls")),
    path("volunteers/", include("zhouxin.volunteers.urls")),
    path("workforce/", include("zhouxin.workforce.urls")),
    path("funds/", include("zhouxin.funds.urls")),
    path("centers/", include("zhouxin.centers.urls")),
    path("oversight/", include("zhouxin.oversight.urls")),
    path("analytics/", include("zhouxin.analytics.urls")),
    # Notices: staff pages under /publishing/, public pages under /portal/notices/.
    path("", include("zhouxin.publishing.urls")),
]

if settings.BENCH_ENDPOINTS:  # `make bench` only; forced off in production (settings.py)
    urlpatterns.append(path("bench/", include("zhouxin.dispatch.bench")))

handler403 = "zhouxin.core.views.errors.permission_denied"
handler404 = "zhouxin.core.views.errors.page_not_found"
handler500 = "zhouxin.core.faults.server_error"  # database/audit outages → 503, no DB while rendering
