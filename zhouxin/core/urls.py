from django.urls import include, path

from . import faults, metrics
from .views import home

app_name = "core"

urlpatterns = [
    path("", home.home, name="home"),
    # monitors (readiness): database, task queue and audit sealer, 200 or 503 (core/faults.py)
    path("healthz", faults.health, name="health"),
    # load balancers (liveness): 200 while the process answers, without the database
    path("healthz/live", faults.health_live, name="health_live"),
    # Prometheus, with METRICS_TOKEN or from METRICS_ALLOWED_IPS; 404 to anyone else (core/metrics.py)
    path("metrics", metrics.metrics, name="metrics"),
    # login, TOTP verification and enrolment, logout, password change
    path("accounts/", include("zhouxin.core.urls_auth")),
    # users and grants (系统管理员)
    path("admin/users/", include("zhouxin.core.urls_users")),
    # audit log (安全审计员)
    path("admin/audit/", include("zhouxin.core.urls_audit")),
    # working-day calendar and policy store
    path("admin/", include("zhouxin.core.urls_policy")),
]
