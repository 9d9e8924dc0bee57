"""The audit log, read-only, for the audit admin (included at admin/audit/ in the core namespace)."""

from django.urls import path

from .views import audit

urlpatterns = [
    path("", audit.audit_list, name="audit_list"),
    path("<int:pk>/", audit.audit_detail, name="audit_detail"),
]
