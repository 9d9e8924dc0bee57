from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarYear(models.Model):
    """A year of the official holiday calendar.  Unpublished years fall back to rules."""

    SOURCE_SEED = "chinese-calendar"
    SOURCE_ADMIN = "admin"

    year = models.PositiveSmallIntegerField(_("年份"), primary_key=True)
    published = models.BooleanField(_("已发布"), default=True)
    source = models.CharField(_("来源"), max_length=32, default=SOURCE_SEED)
    note = models.CharField(_("依据"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("节假日年度")
        verbose_name_plural = _("节假日年度")
        ordering = ["-year"]

    def __str__(self):
        return str(self.year)


class CalendarDay(models.Model):
    """A day that differs from the weekday/weekend default: a holiday or an adjusted workday (调休)."""

    date = models.DateField(_("日期"), primary_key=True)
    year = models.ForeignKey(CalendarYear, on_delete=models.CASCADE, related_name="days", verbose_name=_("年度"))
    is_workday = models.BooleanField(_("工作日"))
    name = models.CharField(_("名称"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("节假日调整")
        verbose_name_plural = _("节假日调整")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'班' if self.is_workday else '休'} {self.name}"
