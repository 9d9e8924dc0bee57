"""Recompute the dispatch roll-ups from the request events (or, with --check, compare only)."""

from __future__ import annotations

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhouxin.core.scoping import scopes_disabled
from zhouxin.dispatch import rollups

SHOWN_DIFFERENCES = 50


def parse_month(value: str) -> dt.date:
    try:
        return dt.datetime.strptime(value.strip(), "%Y-%m").date()
    except ValueError:
        raise CommandError(_("月份格式应为 YYYY-MM，例如 2026-03：%(value)s") % {"value": value}) from None


class Command(BaseCommand):
    help = _("按工单动态重算三率月度统计；--check 只比较不写入。")

    def add_arguments(self, parser):
        parser.add_argument("--month", action="append", default=[], metavar="YYYY-MM",
                            help=_("只重算该受理月份（可重复）；缺省时重算全部。"))
        parser.add_argument("--check", action="store_true",
                            help=_("只比较现有统计与按动态重算的结果，报告差异，不写入。"))

    def handle(self, *args, month, check, **options):
        months = [parse_month(value) for value in month] or None
        scope_text = "、".join(m.strftime("%Y-%m") for m in months) if months else _("全部月份")
        started = time.perf_counter()
        with scopes_disabled():
            if check:
                differences = rollups.check(months=months)
                elapsed = time.perf_counter() - started
                if not differences:
                    self.stdout.write(self.style.SUCCESS(
                        _("一致：%(months)s 的统计与按动态重算的结果相同（%(seconds).1f 秒）。")
                        % {"months": scope_text, "seconds": elapsed}))
                    return
                for diff in differences[:SHOWN_DIFFERENCES]:
                    self.stdout.write(
                        _("%(table)s %(month)s %(subject)s %(field)s：现有 %(stored)d，应为 %(computed)d")
                        % {"table": diff.table, "month": diff.key[0].strftime("%Y-%m"),
                           "subject": _subject(diff), "field": diff.field, "stored": diff.stored,
                           "computed": diff.computed})
                if len(differences) > SHOWN_DIFFERENCES:
                    self.stdout.write(_("……另有 %(count)d 处差异。") % {"count": len(differences) - SHOWN_DIFFERENCES})
                raise CommandError(_("不一致：%(months)s 有 %(count)d 处差异。")
                                   % {"months": scope_text, "count": len(differences)})
            result = rollups.rebuild(months=months)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(
            _("已重算 %(months)s：%(requests)d 件工单、%(events)d 条动态 → %(rollups)d 行月度统计、"
              "%(categories)d 行类别统计（%(seconds).1f 秒）。")
            % {"months": scope_text, "requests": result.requests, "events": result.events,
               "rollups": result.rollups, "categories": result.category_rollups, "seconds": elapsed}))


def _subject(diff: rollups.Difference) -> str:
    if diff.table == "category":
        return _("街道 %(street)s 类别 %(category)s") % {"street": diff.key[1], "category": diff.key[2]}
    if diff.key[1] is not None:
        return _("区域 %(area)s") % {"area": diff.key[1]}
    return _("单位 %(org)s") % {"org": diff.key[2]}
