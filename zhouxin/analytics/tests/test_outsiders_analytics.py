"""The dashboard's outsider cases on their own (core's test_outsiders runs every app's)."""

from zhouxin.testing.clients import verified_client

from .outsiders_analytics import cases


def test_outsiders_of_the_dashboard_are_refused(personas):
    from django.test import Client

    failures = []
    checked = cases(personas)
    assert checked
    for case in checked:
        client = verified_client(personas, case.persona) if case.persona else Client()
        response = getattr(client, case.method)(case.url, data=case.data or {})
        body = response.content.decode(errors="replace")
        leaked = [text for text in case.must_not_contain if text in body]
        if response.status_code not in case.expected or leaked:
            failures.append(f"{case.persona} {case.method} {case.url}: {response.status_code} leaked={leaked}")
    assert not failures, "\n".join(failures)


def test_the_community_figure_is_shown_to_those_who_may_see_it(personas):
    """The hidden figure of the cases above is really on the page of those allowed (else the
    must_not_contain checks could not fail)."""
    from django.urls import reverse

    cases(personas)
    url = f"{reverse('analytics:dashboard')}?area={personas.areas['community_a'].code}"
    for persona in ("community_staff", "street_hub", "district_admin"):
        assert "48,213" in verified_client(personas, persona).get(url).content.decode(), persona
