"""Oversight URLs of the reports part (included by urls.py, namespace "oversight")."""

from django.urls import path

from . import views_reports

urlpatterns: list = [
    path("reports/", views_reports.report_list, name="report_list"),
    path("reports/new/", views_reports.report_create, name="report_create"),
    path("reports/<int:pk>/", views_reports.report_detail, name="report_detail"),
    path("reports/<int:pk>/status/", views_reports.report_status, name="report_status"),
    path("reports/<int:pk>/xlsx/", views_reports.report_xlsx, name="report_xlsx"),
    path("reports/<int:pk>/pdf/", views_reports.report_pdf, name="report_pdf"),
]
