from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestKind(models.TextChoices):
    CONSULT = "consult", _("咨询")
    HELP = "help", _("求助")
    COMPLAINT = "complaint", _("投诉")
    REPORT = "report", _("举报")
    SUGGESTION = "suggestion", _("建议")


class Channel(models.TextChoices):
    PORTAL = "portal", _("居民网站")
    HOTLINE = "hotline", _("12345 热线")
    WALK_IN = "walk_in", _("来访")
    GRID = "grid", _("网格巡查")
    API = "api", _("开放接口")


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")


class SlaClass(models.TextChoices):
    """Time-limit classes of the catalogue (DESIGN: emergency 2 h first contact; water,
    power, gas, heating 24 h; general 7 days; complex 15 days)."""

    EMERGENCY = "emergency", _("紧急类")
    UTILITIES = "utilities", _("水电气热")
    GENERAL = "general", _("一般类")
    COMPLEX = "complex", _("复杂类")


class Status(models.TextChoices):
    RECEIVED = "received", _("已受理")
    HELD = "held", _("待审核")
    DISPATCHED = "dispatched", _("已派单")
    ACCEPTED = "accepted", _("已签收")
    RETURNED = "returned", _("已退单")
    CONTACTED = "contacted", _("已联系")
    REPLIED = "replied", _("已答复")
    CLOSED = "closed", _("已办结")
    REOPENED = "reopened", _("督办中")
    MERGED = "merged", _("已合并")
    INVALID = "invalid", _("无效")


# Requests that still need work (the SLA clock runs).
OPEN_STATUSES = frozenset(
    {Status.RECEIVED, Status.DISPATCHED, Status.ACCEPTED, Status.RETURNED, Status.CONTACTED, Status.REOPENED}
)


class AssignmentRole(models.TextChoices):
    LEAD = "lead", _("主办")
    CO = "co", _("协办")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("待签收")
    ACCEPTED = "accepted", _("已签收")
    RETURNED = "returned", _("已退回")
    DONE = "done", _("已完成")
    WITHDRAWN = "withdrawn", _("已撤回")


class Resolution(models.TextChoices):
    RESOLVED = "resolved", _("已解决")
    PARTLY = "partly", _("部分解决")
    NOT_RESOLVED = "not_resolved", _("未解决")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")
    UNREACHABLE = "unreachable", _("联系不上")


class ExtensionStatus(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    REFUSED = "refused", _("未批准")


class WhistleStatus(models.TextChoices):
    OPEN = "open", _("吹哨中")
    SOLVED = "solved", _("已解决")


class SlaLight(models.TextChoices):
    GREEN = "green", _("正常")
    YELLOW = "yellow", _("预警")
    RED = "red", _("超时")


class EventAction(models.TextChoices):
    """Timeline actions.  Every event is folded into the roll-ups (rollups.apply_event)."""

    RECEIVED = "received", _("受理")
    HELD = "held", _("暂缓审核")
    RELEASED = "released", _("审核通过")
    CATEGORISED = "categorised", _("确认类别")
    DISPATCHED = "dispatched", _("派单")
    ACCEPTED = "accepted", _("签收")
    RETURNED = "returned", _("退单")
    EXTENSION_REQUESTED = "extension_requested", _("申请延期")
    EXTENSION_APPROVED = "extension_approved", _("批准延期")
    EXTENSION_REFUSED = "extension_refused", _("驳回延期")
    CONTACTED = "contacted", _("首次联系")
    REPLIED = "replied", _("答复")
    CALLBACK = "callback", _("回访")
    CLOSED = "closed", _("办结")
    REOPENED = "reopened", _("督办重办")
    MERGED = "merged", _("合并")
    INVALIDATED = "invalidated", _("判定无效")
    WARNED = "warned", _("时限预警")
    ESCALATED = "escalated", _("超时上报")
    # The sweep found the contact deadline passed with nobody having called (once per request).
    CONTACT_OVERDUE = "contact_overdue", _("联系超时")
    WHISTLED = "whistled", _("吹哨")
    # The requester corrected their contact name or phone (PIPL art. 46); moves no counter.
    CONTACT_CORRECTED = "contact_corrected", _("更正联系方式")
    # The requester's personal data was deleted at their request (PIPL art. 47); moves no counter.
    ANONYMISED = "anonymised", _("删除个人信息")
