"""Publishing URLs (namespace "publishing"), included at the site root by zhouxin/urls.py:
staff pages under /publishing/, the public notice pages under /portal/notices/."""

from django.urls import path

from . import views, views_public

app_name = "publishing"

urlpatterns = [
    # Staff: notices (公告) and their approval.
    path("publishing/", views.notice_list, name="notice_list"),
    path("publishing/new/", views.notice_create, name="notice_create"),
    path("publishing/<int:pk>/", views.notice_detail, name="notice_detail"),
    path("publishing/<int:pk>/edit/", views.notice_edit, name="notice_edit"),
    path("publishing/<int:pk>/submit/", views.notice_submit, name="notice_submit"),
    path("publishing/<int:pk>/approve/", views.notice_approve, name="notice_approve"),
    path("publishing/<int:pk>/return/", views.notice_return, name="notice_return"),
    path("publishing/<int:pk>/unpublish/", views.notice_unpublish, name="notice_unpublish"),
    # Security admin: integrity alerts, withheld pages, the file baseline.
    path("publishing/integrity/", views.integrity_overview, name="integrity"),
    path("publishing/integrity/alerts/<int:pk>/acknowledge/", views.alert_acknowledge, name="alert_acknowledge"),
    path("publishing/integrity/pages/<int:pk>/", views.page_detail, name="page_detail"),
    path("publishing/integrity/pages/<int:pk>/reapprove/", views.page_reapprove, name="page_reapprove"),
    path("publishing/integrity/baseline/", views.baseline_record, name="baseline_record"),
    # Public: a community's (or street's) notices and one notice.
    path("portal/notices/<str:code>/", views_public.notice_index, name="public_list"),
    path("portal/notices/<str:code>/<int:pk>/", views_public.notice_page, name="public_detail"),
]
