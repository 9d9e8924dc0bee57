"""URL patterns included by orgs/urls.py (names live in the orgs namespace): xlsx import and export."""

from django.urls import path

from .views import transfer

urlpatterns = [
    path("import/", transfer.import_start, name="import"),
    path("template/<slug:kind>.xlsx", transfer.import_template, name="import_template"),
    path("jobs/<int:pk>/", transfer.import_job, name="import_job"),
    path("jobs/<int:pk>/progress/", transfer.import_job_progress, name="import_job_progress"),
    path("export/people.xlsx", transfer.export_people, name="export_people"),
    path("export/organisations.xlsx", transfer.export_organisations, name="export_organisations"),
]
