"""Where and what: the community picker with its grid picker (filtered by htmx), the
address, and the category picker with suggestions while typing — all without inline script."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area

from .helpers import portal_requests, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def grids(personas):
    with scopes_disabled():
        other = Area.objects.unscoped().create(code="110101002001001", name="吉祥社区第一网格", level=AreaLevel.GRID,
                                               parent=personas.areas["community_b"])
        closed = Area.objects.unscoped().create(code="110101001001002", name="多福巷社区第二网格（已撤销）",
                                                level=AreaLevel.GRID, parent=personas.areas["community_a"],
                                                is_active=False)
    return {"mine": personas.areas["grid_a"], "other": other, "closed": closed}


def test_grid_options_are_those_of_the_chosen_community_only(personas, grids):
    body = Client().get(reverse("portal:grids"), {"area": personas.areas["community_a"].code}).content.decode()
    assert "多福巷社区第一网格" in body and "不清楚或不选网格" in body
    assert "吉祥社区第一网格" not in body and "已撤销" not in body
    for nonsense in ("", "abc", "110101001", "1101010010x1", "110102001001"):
        body = Client().get(reverse("portal:grids"), {"area": nonsense}).content.decode()
        assert body.count("<option") == 1 and "不清楚或不选网格" in body, nonsense


def test_the_community_picker_lists_communities_by_street_and_asks_for_grids_by_htmx(personas, grids):
    page = Client().get(reverse("portal:submit")).content.decode()
    area = re.search(r'<select name="area".*?</select>', page, re.S).group(0)
    assert '<optgroup label="东华门街道">' in area and "多福巷社区" in area and "吉祥社区" in area
    assert "网格" not in area
    assert 'hx-get="/portal/submit/grids/"' in page and 'hx-target="#id_grid"' in page
    assert re.search(r'<select name="grid"[^>]*id="id_grid"', page)


def test_a_grid_of_the_chosen_community_becomes_the_place(personas, grids):
    assert submit(Client(), personas, grid=grids["mine"].code).status_code == 302
    assert portal_requests().get().area == grids["mine"]


def test_without_a_grid_the_community_is_the_place(personas, grids):
    assert submit(Client(), personas).status_code == 302
    assert portal_requests().get().area == personas.areas["community_a"]


@pytest.mark.parametrize("which", ["other", "closed"])
def test_a_grid_outside_the_chosen_community_is_refused(personas, grids, which):
    response = submit(Client(), personas, grid=grids[which].code)
    assert response.status_code == 422
    assert "所选网格不属于所选社区，请重新选择。" in response.content.decode()
    assert not ServiceRequest.objects.unscoped().exists()


def test_after_an_error_the_grid_picker_keeps_the_communitys_grids(personas, grids):
    body = submit(Client(), personas, title="", grid=grids["mine"].code).content.decode()
    grid = re.search(r'<select name="grid".*?</select>', body, re.S).group(0)
    assert "多福巷社区第一网格" in grid and "selected" in grid


def test_pages_have_no_inline_script_style_or_event_handlers(personas):
    client = Client()
    for name in ("portal:home", "portal:submit", "portal:track", "portal:signin", "portal:communities"):
        body = client.get(reverse(name)).content.decode()
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body), name
        assert not re.search(r"\sstyle=", body), name
        assert not re.search(r"\son[a-z]+=", body), name
    page = client.get(reverse("portal:submit")).content.decode()
    # Suggestions: htmx posts only the two texts (never the photos) and portal.js applies a pick.
    assert 'hx-post="/portal/submit/suggest/"' in page and 'hx-params="title,description"' in page
    assert 'id="zx-category"' in page and "zhouxin/portal.js" in page


def test_a_suggestion_names_a_category_of_the_picker(personas, dispatch_world):
    response = Client().post(reverse("portal:suggest"), {"title": "楼道垃圾堆放", "description": "楼道卫生差，垃圾没人清扫"},
                             HTTP_HX_REQUEST="true")
    ids = re.findall(r'data-zx-pick-category="(\d+)"', response.content.decode())
    assert ids
    page = Client().get(reverse("portal:submit")).content.decode()
    category = re.search(r'<select name="category".*?</select>', page, re.S).group(0)
    for pk in ids:
        assert f'value="{pk}"' in category
