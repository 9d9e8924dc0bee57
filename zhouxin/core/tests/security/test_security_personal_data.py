"""Personal data stays masked (DESIGN §4, PIPL): the full phone and ID numbers seeded into people,
requests' contacts and a resident account never appear in any page, API answer or export any
staff persona (or an anonymous visitor) gets in the shared crawl.  Only the reveal endpoints
show them, one at a time, with a reason, and each reveal is in the audit log."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from zhouxin.core.crypto import mask_phone
from zhouxin.core.models import AuditEntry

from .crawl import CONTACT_PHONES, STAFF, XLSX, build_world, url_names

pytestmark = pytest.mark.django_db

# Reveal endpoints (POST, with a reason) and the audit action each one writes.  A new reveal
# endpoint must be added here, with its test below.
REVEALS = {"orgs:person_reveal": "orgs.person.revealed", "dispatch:request_reveal": "dispatch.request.contact_revealed"}


def xlsx_text(raw: bytes) -> str:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(raw), read_only=True)
    return "\n".join(str(cell) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
                     for cell in row if cell is not None)


def test_no_staff_or_public_response_shows_a_full_number(crawled):
    leaks, exports = [], 0
    for page in crawled.pages:
        if page.persona == "resident_portal":
            continue  # the resident's own pages show the resident's own phone (test_pipl)
        text = page.body
        if page.content_type.startswith(XLSX) and page.raw:
            text, exports = xlsx_text(page.raw), exports + 1
        found = sorted(n for n in crawled.numbers if n in text)
        if found:
            leaks.append(f"{page.persona} GET {page.url} ({page.status}): {found}")
    assert exports, "the crawl downloaded no export"
    assert not leaks, "\n".join(leaks)


def test_the_crawl_saw_the_masked_numbers(crawled):
    """Guard: the pages did show the people and contacts, masked."""
    masked = {mask_phone(CONTACT_PHONES["community_a"]), mask_phone(crawled.world.personas.people["resident_a"].phone)}
    seen = {m for m in masked for page in crawled.pages if page.persona in STAFF and m in page.body}
    assert seen == masked
    assert {p.persona for p in crawled.pages} >= set(STAFF)


def test_every_reveal_endpoint_is_known_here():
    found = {name for name in url_names() if "reveal" in name.split(":")[-1]}
    assert found <= set(REVEALS), f"reveal endpoints without a test here: {sorted(found - set(REVEALS))}"


def test_reveals_show_the_full_number_and_are_audited(personas, client_for, settings):
    world = build_world(personas)
    client = client_for("district_admin")
    person = personas.people["resident_a"]
    sr = world.requests["community_a"]
    posts = {
        "orgs:person_reveal": (reverse("orgs:person_reveal", args=[person.pk]),
                               {"field": "phone", "reason": "入户走访核实"}, person.phone),
        "dispatch:request_reveal": (reverse("dispatch:request_reveal", args=[sr.number]),
                                    {"reason": "回访联系诉求人"}, CONTACT_PHONES["community_a"]),
    }
    assert set(posts) == set(REVEALS)
    for name, (url, data, number) in posts.items():
        entries = AuditEntry.objects.filter(action=REVEALS[name], actor=personas.users["district_admin"])
        before = entries.count()
        response = client.post(url, data)
        assert response.status_code == 200 and number in response.content.decode(), name
        assert entries.count() == before + 1, name
        # A GET never reveals.
        assert number not in client.get(url).content.decode()
