import datetime as dt

from django.template import Context, Template
from django.utils import translation


def test_a_date_reads_in_the_readers_language():
    template = Template('{{ day|ldate:"Y年n月j日" }} · {{ day|ldate:"n月j日 l" }}')
    day = dt.date(2026, 11, 27)
    with translation.override("zh-hans"):
        assert template.render(Context({"day": day})) == "2026年11月27日 · 11月27日 星期五"
    with translation.override("en"):
        assert template.render(Context({"day": day})) == "27 Nov 2026 · Friday 27 Nov"
