"""Co-building URLs (namespace "cobuild"), under /cobuild/."""

from django.urls import path

from . import views, views_dashboard, views_delivery, views_documents, views_public

app_name = "cobuild"

urlpatterns = [
    path("needs/", views.need_list, name="need_list"),
    path("needs/new/", views.need_create, name="need_create"),
    path("needs/promote/", views.promote, name="promote"),
    path("needs/<int:pk>/", views.need_detail, name="need_detail"),
    path("needs/<int:pk>/close/", views.need_close, name="need_close"),
    path("needs/<int:pk>/claim/", views.claim_create, name="claim_create"),
    path("resources/", views.resource_list, name="resource_list"),
    path("resources/new/", views.resource_create, name="resource_create"),
    path("resources/<int:pk>/", views.resource_detail, name="resource_detail"),
    path("matches/", views.my_matches, name="my_matches"),
    path("claims/<int:pk>/confirm/", views.claim_confirm, name="claim_confirm"),
    path("claims/<int:pk>/decline/", views.claim_decline, name="claim_decline"),
    path("claims/<int:pk>/project/", views.project_create, name="project_create"),
    path("dashboard/", views_dashboard.dashboard_view, name="dashboard"),
    path("projects/", views.project_list, name="project_list"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("projects/<int:pk>/publish/", views_public.project_publish, name="project_publish"),
    path("projects/<int:pk>/unpublish/", views_public.project_unpublish, name="project_unpublish"),
    # Editing and withdrawing the lists.
    path("needs/<int:pk>/edit/", views.need_edit, name="need_edit"),
    path("resources/<int:pk>/edit/", views.resource_edit, name="resource_edit"),
    path("resources/<int:pk>/deactivate/", views.resource_deactivate, name="resource_deactivate"),
    path("claims/<int:pk>/withdraw/", views.claim_withdraw, name="claim_withdraw"),
    # Delivery of a project (views_delivery.py).
    path("projects/<int:pk>/start/", views_delivery.project_start, name="project_start"),
    path("projects/<int:pk>/complete/", views_delivery.project_complete, name="project_complete"),
    path("projects/<int:pk>/cancel/", views_delivery.project_cancel, name="project_cancel"),
    path("projects/<int:pk>/milestones/", views_delivery.milestone_add, name="milestone_add"),
    path("projects/<int:pk>/milestones/<int:milestone_pk>/done/", views_delivery.milestone_done,
         name="milestone_done"),
    path("projects/<int:pk>/milestones/<int:milestone_pk>/delete/", views_delivery.milestone_delete,
         name="milestone_delete"),
    path("projects/<int:pk>/records/", views_delivery.record_add, name="record_add"),
    path("projects/<int:pk>/evidence/", views_delivery.evidence_upload, name="evidence_upload"),
    path("projects/<int:pk>/evidence/<int:evidence_pk>/", views_delivery.evidence_file, name="evidence_file"),
    path("projects/<int:pk>/evidence/<int:evidence_pk>/delete/", views_delivery.evidence_delete,
         name="evidence_delete"),
    # The agreement, its signed copy and the units' yearly reports (views_documents.py).
    path("projects/<int:pk>/agreement/issue/", views_documents.agreement_issue, name="agreement_issue"),
    path("projects/<int:pk>/agreement.pdf", views_documents.agreement_download, name="agreement_download"),
    path("projects/<int:pk>/signed/", views_documents.signed_upload, name="signed_upload"),
    path("projects/<int:pk>/signed/download/", views_documents.signed_download, name="signed_download"),
    path("units/reports/", views_documents.unit_reports, name="unit_reports"),
    path("units/<int:org_pk>/report/<int:year>.pdf", views_documents.unit_report_pdf, name="unit_report_pdf"),
    path("units/<int:org_pk>/report/<int:year>.xlsx", views_documents.unit_report_xlsx, name="unit_report_xlsx"),
]
