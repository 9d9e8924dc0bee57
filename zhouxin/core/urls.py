from django.urls import include, path

from . import faults
from .views import home

app_name = "core"

urlpatterns = [
    path("", home.home, name="home"),
    # load balancers and monitors: 200 when the database answers, else 503 (core/faults.py)
    path("healthz", faults.health, name="health"),
    # login, TOTP verification and enrolment, logout, password change
    path("accounts/", include("zhouxin.core.urls_auth")),
    # users and grants (系统管理员)
    path("admin/users/", include("zhouxin.core.urls_users")),
    # audit log (安全审计员)
    path("admin/audit/", include("zhouxin.core.urls_audit")),
    # working-day calendar and policy store
    path("admin/", include("zhouxin.core.urls_policy")),
]
