"""The public-sections registry: domains register what a community's public page shows."""

from __future__ import annotations

import pytest

from zhouxin.core import public_sections

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    names = []

    def add(name, **kwargs):
        names.append(name)
        public_sections.register(name, template="portal/_grid_options.html", **kwargs)

    yield add
    for name in names:
        public_sections.unregister(name)


def test_sections_render_in_order_and_skip_those_with_nothing_to_show(personas, registered):
    area = personas.areas["community_a"]
    registered("test.late", title="后", context=lambda a: {"choices": [("", f"late {a.code}")]}, order=50)
    registered("test.early", title="前", context=lambda a: {"choices": [("", "early")]}, order=1)
    registered("test.empty", title="空", context=lambda a: None, order=2)
    shown = [s for s in public_sections.render_for(area) if s.name.startswith("test.")]
    assert [(s.name, s.title) for s in shown] == [("test.early", "前"), ("test.late", "后")]
    assert f"late {area.code}" in shown[1].html


def test_a_failing_section_is_logged_and_left_out(personas, registered, caplog):
    def broken(area):
        raise ValueError("no data")

    registered("test.broken", title="坏", context=broken, order=1)
    shown = public_sections.render_for(personas.areas["community_a"])
    assert "test.broken" not in [s.name for s in shown]
    assert "public section test.broken failed" in caplog.text


def test_registering_again_replaces(registered):
    registered("test.twice", title="一", context=lambda a: None)
    registered("test.twice", title="二", context=lambda a: None)
    assert [s.title for s in public_sections.sections() if s.name == "test.twice"] == ["二"]


def test_dispatch_registers_its_community_section():
    assert "dispatch.requests" in [s.name for s in public_sections.sections()]
