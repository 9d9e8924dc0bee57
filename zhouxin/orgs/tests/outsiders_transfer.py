"""Outsider cases for the xlsx import and export views (zhouxin/core/tests/test_outsiders.py runs them)."""

from django.urls import reverse

from zhouxin.core.models import ImportJob
from zhouxin.testing.outsiders import Case

JOB_FILENAME = "东华门街道组织-outsider-case.xlsx"


def cases(personas):
    street_a = personas.areas["street_a"]
    # A job of the street hub of 东华门街道, into the whole street.
    job = ImportJob.objects.create(kind="organisations", filename=JOB_FILENAME, content=b"PK", total=1,
                                   scope_area=street_a, created_by=personas.street_hub)
    job_url = reverse("orgs:import_job", args=[job.pk])
    progress_url = reverse("orgs:import_job_progress", args=[job.pk])
    template_url = reverse("orgs:import_template", args=["organisations"])
    import_url = reverse("orgs:import")
    people_url = reverse("orgs:export_people")
    orgs_url = reverse("orgs:export_organisations")
    login = frozenset({302})
    return [
        # Import page: anonymous visitors log in; roles that may not import are refused.
        Case("orgs:import", None, import_url, login),
        Case("orgs:import", "resident", import_url, frozenset({403})),
        Case("orgs:import", "grid_worker", import_url, frozenset({403})),
        Case("orgs:import", "department_handler", import_url, frozenset({403})),
        Case("orgs:import", "audit_admin", import_url, frozenset({403})),
        # Uploading into another district's community: that area does not exist for the outsider.
        Case("orgs:import", "outsider", import_url, frozenset({404}), method="post",
             data={"kind": "organisations", "area": personas.areas["community_a"].code}),
        # Staff of 吉祥社区 (景山街道) cannot import into 东华门街道.
        Case("orgs:import", "community_staff_b", import_url, frozenset({404}), method="post",
             data={"kind": "people", "area": street_a.code}),
        # Templates.
        Case("orgs:import_template", None, template_url, login),
        Case("orgs:import_template", "member", template_url, frozenset({403})),
        Case("orgs:import_template", "system_admin", template_url, frozenset({403})),
        # The street's job: hidden from other streets, other districts, and from a community's staff
        # whose grant does not cover the whole street.
        Case("orgs:import_job", None, job_url, login),
        Case("orgs:import_job", "outsider", job_url, frozenset({404}), must_not_contain=(JOB_FILENAME,)),
        Case("orgs:import_job", "community_staff_b", job_url, frozenset({404}), must_not_contain=(JOB_FILENAME,)),
        Case("orgs:import_job", "community_staff", job_url, frozenset({404}), must_not_contain=(JOB_FILENAME,)),
        Case("orgs:import_job", "resident", job_url, frozenset({404}), must_not_contain=(JOB_FILENAME,)),
        Case("orgs:import_job_progress", None, progress_url, login),
        Case("orgs:import_job_progress", "outsider", progress_url, frozenset({404})),
        Case("orgs:import_job_progress", "community_staff_b", progress_url, frozenset({404})),
        Case("orgs:import_job_progress", "grid_worker", progress_url, frozenset({404})),
        # Exports: only roles that may export; an area outside the caller's scope does not exist.
        Case("orgs:export_people", None, people_url, login),
        Case("orgs:export_people", "resident", people_url, frozenset({403})),
        Case("orgs:export_people", "grid_worker", people_url, frozenset({403})),
        Case("orgs:export_people", "outsider", f"{people_url}?area={personas.areas['community_a'].code}",
             frozenset({404})),
        Case("orgs:export_people", "community_staff", f"{people_url}?area={personas.areas['community_b'].code}",
             frozenset({404})),
        Case("orgs:export_organisations", None, orgs_url, login),
        Case("orgs:export_organisations", "unit_liaison", orgs_url, frozenset({403})),
        Case("orgs:export_organisations", "community_staff_b",
             f"{orgs_url}?area={personas.areas['street_a'].code}", frozenset({404})),
    ]
