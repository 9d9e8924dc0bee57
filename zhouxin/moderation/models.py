"""Moderation (内容审核): the spam lexicon, its version, and the items held for review."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhouxin.core.scoping import ScopedManager

from .choices import ItemStatus, LexiconCategory, LexiconKind


class LexiconEntry(models.Model):
    """One term (or domain) of the spam lexicon.  `key` is the term normalised and folded
    exactly like screened text (normalise.fold_text; a domain: its lower-case host name),
    so 賭 場 and 赌场 are one entry."""

    term = models.CharField(_("词条"), max_length=100)
    key = models.CharField(_("匹配键"), max_length=100, editable=False)
    category = models.CharField(_("类别"), max_length=16, choices=LexiconCategory.choices)
    kind = models.CharField(_("类型"), max_length=8, choices=LexiconKind.choices, default=LexiconKind.KEYWORD)
    active = models.BooleanField(_("启用"), default=True)
    note = models.CharField(_("备注"), max_length=200, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("添加人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("添加时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("敏感词")
        verbose_name_plural = _("敏感词库")
        ordering = ("category", "key")
        constraints = [
            models.UniqueConstraint(fields=["kind", "key"], name="moderation_lexicon_unique_key",
                                    violation_error_message=_("该词已在词库中。")),
            models.CheckConstraint(condition=~Q(key=""), name="moderation_lexicon_key_not_empty",
                                   violation_error_message=_("词条不能为空。")),
        ]

    def __str__(self) -> str:
        return self.term


class LexiconState(models.Model):
    """The single row (id 1) whose `token` changes with every change of the lexicon: each
    process compares it with the token its automaton was built from (lexicon.py)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.PositiveBigIntegerField(_("版本"), default=0)
    token = models.CharField(_("版本标记"), max_length=32, default="")
    seed_version = models.PositiveIntegerField(_("默认词库版本"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("词库版本")
        verbose_name_plural = _("词库版本")
        constraints = [
            models.CheckConstraint(condition=Q(id=1), name="moderation_lexicon_state_single_row",
                                   violation_error_message=_("词库版本只有一行。")),
        ]

    def __str__(self) -> str:
        return f"v{self.version}"


class ModerationItem(models.Model):
    """A piece of content of some domain (a published page, a wish, a comment…) held for
    review.  The domain keeps the content unpublished while an item of its `source_key` is
    held, and publishes or drops it when the reviewer's decision reaches it (registry.py)."""

    kind = models.CharField(_("内容类型"), max_length=64)
    source_key = models.CharField(_("来源标识"), max_length=200)
    content_type = models.ForeignKey(ContentType, verbose_name=_("对象类型"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    area = models.ForeignKey("orgs.Area", verbose_name=_("所属区域"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("标题"), max_length=200, blank=True)
    excerpt = models.TextField(_("内容摘录"), blank=True)
    reasons = models.JSONField(_("暂缓原因"), default=list)
    matched = models.JSONField(_("命中词"), default=list)
    status = models.CharField(_("状态"), max_length=10, choices=ItemStatus.choices, default=ItemStatus.HELD)
    held_at = models.DateTimeField(_("暂缓时间"))
    held_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("提交人"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=300, blank=True)

    objects = ScopedManager(scope_field="area__code")

    class Meta:
        verbose_name = _("审核事项")
        verbose_name_plural = _("审核事项")
        ordering = ("-held_at", "-id")
        constraints = [
            models.UniqueConstraint(fields=["source_key"], condition=Q(status="held"),
                                    name="moderation_item_one_held_per_source",
                                    violation_error_message=_("该内容已在审核队列中。")),
        ]
        indexes = [models.Index(fields=["status", "held_at"], name="moderation_item_status_held")]

    def __str__(self) -> str:
        return self.title or self.source_key
