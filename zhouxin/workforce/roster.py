"""Every write of the roster (花名册) of community workers: workers, their posts, and the xlsx import.

The street (or district) keeps the roster: each service checks "workforce.roster" on the
worker's community, validates everything first (Chinese messages, nothing changed on bad input)
and writes one audit entry per object changed.  A worker is an orgs.Person: an existing one
within the actor's areas, or one created here through orgs.services.person_create.

The import (`roster_import`) reads the template's columns; it is all or nothing: every row goes
through the same services inside one transaction, and when any row fails, the transaction is
rolled back and every failing row is reported as "第 N 行：…" (N is the sheet row).
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from zhouxin.core import audit
from zhouxin.core.crypto import blind_index
from zhouxin.core.permissions import ensure_can
from zhouxin.core.scoping import scope_for_user
from zhouxin.orgs import services as org_services
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.imports import Column, ImportFileError, ImportKind, _text, read_sheet
from zhouxin.orgs.models import Area, Person
from zhouxin.orgs.validators import validate_id_number

from .choices import Certificate, Education, PostType, WorkerStatus
from .models import PostHolding, Worker

PERMISSION = "workforce.roster"
TITLE_MAX = 40
WORKER_FIELDS = ["person", "community", "hire_date", "education", "has_diploma", "has_degree", "certificate",
                 "training_hours", "entry_grade", "early_promotions_used", "status", "left_on"]
POST_FIELDS = ["worker", "post_type", "title", "started_on", "ended_on"]
EDITABLE = ("community", "hire_date", "education", "has_diploma", "has_degree", "certificate", "training_hours",
            "entry_grade", "early_promotions_used")


def _raise(errors: dict) -> None:
    if errors:
        raise ValidationError(errors)


def _add(errors: dict, field: str, message) -> None:
    errors.setdefault(field, []).append(message)


def _check_community(errors: dict, community) -> None:
    if community is None:
        _add(errors, "community", _("请选择所在社区。"))
    elif community.level != AreaLevel.COMMUNITY or not community.is_active:
        _add(errors, "community", _("“%(name)s”不是有效的社区。") % {"name": community.name})


def _clean_worker_values(values: dict, errors: dict) -> dict:
    """Check the worker's own fields among `values` (only those given)."""
    cleaned = dict(values)
    if "community" in values:
        _check_community(errors, values["community"])
    if "hire_date" in values:
        if not isinstance(values["hire_date"], dt.date):
            _add(errors, "hire_date", _("请填写入职日期。"))
        elif values["hire_date"] > timezone.localdate() + dt.timedelta(days=366):
            _add(errors, "hire_date", _("入职日期不能晚于明年今日。"))
    if "education" in values and values["education"] not in Education.values:
        _add(errors, "education", _("学历“%(v)s”无效。") % {"v": values["education"]})
    if "certificate" in values:
        cleaned["certificate"] = values["certificate"] or ""
        if cleaned["certificate"] not in Certificate.values:
            _add(errors, "certificate", _("社工证“%(v)s”无效。") % {"v": values["certificate"]})
    for key in ("has_diploma", "has_degree"):
        if key in values:
            cleaned[key] = bool(values[key])
    if "entry_grade" in values and values["entry_grade"] not in (None, ""):
        try:
            grade = int(values["entry_grade"])
        except (TypeError, ValueError):
            grade = 0
        if not 1 <= grade <= 18:
            _add(errors, "entry_grade", _("入职定级应为 1 到 18 级。"))
        cleaned["entry_grade"] = grade
    elif "entry_grade" in values:
        cleaned["entry_grade"] = None
    if "early_promotions_used" in values:
        try:
            used = int(values["early_promotions_used"] or 0)
        except (TypeError, ValueError):
            used = -1
        if used < 0 or used > 18:
            _add(errors, "early_promotions_used", _("已提前晋级次数应为 0 到 18 的整数。"))
        cleaned["early_promotions_used"] = used
    if "training_hours" in values:
        try:
            hours = Decimal(str(values["training_hours"] or 0)).quantize(Decimal("0.1"))
        except (InvalidOperation, ValueError):
            hours = Decimal(-1)
        if not Decimal(0) <= hours <= Decimal("99999.9"):
            _add(errors, "training_hours", _("培训学时应为 0 或正数。"))
        cleaned["training_hours"] = hours
    return cleaned


def _worker_audit(worker: Worker) -> dict:
    return audit.snapshot(worker, WORKER_FIELDS)


# --- workers ---------------------------------------------------------------------------

@transaction.atomic
def worker_create(*, actor, community: Area, hire_date: dt.date, person: Person | None = None, name: str = "",
                  phone: str = "", id_number: str = "", education: str = Education.COLLEGE,
                  has_diploma: bool = True, has_degree: bool = True, certificate: str = "", entry_grade=None,
                  early_promotions_used: int = 0, training_hours=0) -> Worker:
    """Register a community worker: `person` (an existing person within the actor's areas) or a
    new person from name/phone/id_number (through the orgs services, living in the community)."""
    errors: dict[str, list] = {}
    cleaned = _clean_worker_values({"community": community, "hire_date": hire_date, "education": education,
                                    "has_diploma": has_diploma, "has_degree": has_degree,
                                    "certificate": certificate, "entry_grade": entry_grade,
                                    "early_promotions_used": early_promotions_used,
                                    "training_hours": training_hours}, errors)
    if "community" not in errors:
        ensure_can(actor, PERMISSION, community.code)
    if person is not None:
        if not scope_for_user(actor).covers(person.home_area.code):
            _add(errors, "person", _("只能登记您管辖范围内的人员。"))
        elif Worker.objects.unscoped().filter(person=person).exists():
            _add(errors, "person", _("%(name)s已登记为社区工作者。") % {"name": person.name})
    elif not (name or "").strip():
        _add(errors, "name", _("请选择人员或填写姓名。"))
    elif "community" not in errors:
        try:
            person = org_services.person_create(actor=actor, name=name, home_area=community, phone=phone,
                                                id_number=id_number)
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field if field != "home_area" else "community", []).extend(messages)
    _raise(errors)
    worker = Worker.objects.unscoped().create(person=person, **cleaned)
    audit.record(actor=actor, action="workforce.worker.created", obj=worker, after=_worker_audit(worker))
    return worker


@transaction.atomic
def worker_update(*, actor, worker: Worker, **values) -> Worker:
    """Correct a worker's facts (moving them to another community needs the permission on both).
    Nothing changed → nothing written or audited."""
    unknown = set(values) - set(EDITABLE)
    if unknown:
        raise TypeError(f"worker_update: unexpected {sorted(unknown)}")
    ensure_can(actor, PERMISSION, worker.community.code)
    errors: dict[str, list] = {}
    cleaned = _clean_worker_values(values, errors)
    if "hire_date" in cleaned and "hire_date" not in errors:
        first = worker.posts.all().order_by("started_on").first()
        if first is not None and first.started_on < cleaned["hire_date"]:
            _add(errors, "hire_date", _("入职日期不能晚于最早的任职日期（%(day)s）。") % {"day": first.started_on})
    _raise(errors)
    changed = {k: v for k, v in cleaned.items() if getattr(worker, k) != v}
    if not changed:
        return worker
    if "community" in changed:
        ensure_can(actor, PERMISSION, changed["community"].code)
    before = audit.snapshot(worker, list(changed))
    for key, value in changed.items():
        setattr(worker, key, value)
    worker.save(update_fields=[*changed, "updated_at"])
    audit.record(actor=actor, action="workforce.worker.updated", obj=worker, before=before,
                 after=audit.snapshot(worker, list(changed)))
    return worker


@transaction.atomic
def worker_leave(*, actor, worker: Worker, left_on: dt.date) -> Worker:
    """离岗: the worker leaves on `left_on` (their last day); posts still held end that day."""
    ensure_can(actor, PERMISSION, worker.community.code)
    worker = Worker.objects.unscoped().select_for_update().get(pk=worker.pk)
    errors: dict[str, list] = {}
    if worker.status == WorkerStatus.LEFT:
        _add(errors, "left_on", _("该工作者已离岗。"))
    elif not isinstance(left_on, dt.date):
        _add(errors, "left_on", _("请填写离岗日期。"))
    elif left_on < worker.hire_date:
        _add(errors, "left_on", _("离岗日期不能早于入职日期。"))
    elif PostHolding.objects.unscoped().filter(worker=worker, started_on__gt=left_on).exists():
        _add(errors, "left_on", _("离岗日期之后还有任职记录，请先修改任职。"))
    _raise(errors)
    before = audit.snapshot(worker, ["status", "left_on"])
    for post in PostHolding.objects.unscoped().filter(worker=worker).exclude(ended_on__lte=left_on):
        _end(actor, post, left_on)
    worker.status, worker.left_on = WorkerStatus.LEFT, left_on
    worker.save(update_fields=["status", "left_on", "updated_at"])
    audit.record(actor=actor, action="workforce.worker.left", obj=worker, before=before,
                 after=audit.snapshot(worker, ["status", "left_on"]))
    return worker


# --- posts -----------------------------------------------------------------------------

def _clean_post(errors: dict, worker: Worker, post_type, title, started_on, ended_on) -> str:
    if post_type not in PostType.values:
        _add(errors, "post_type", _("请选择岗位类别。"))
    title = " ".join(str(title or "").split())
    if not title:
        _add(errors, "title", _("请填写职务。"))
    elif len(title) > TITLE_MAX:
        _add(errors, "title", _("职务不能超过 %(n)d 个字。") % {"n": TITLE_MAX})
    if not isinstance(started_on, dt.date):
        _add(errors, "started_on", _("请填写任职日期。"))
        return title
    if started_on < worker.hire_date:
        _add(errors, "started_on", _("任职日期不能早于入职日期（%(day)s）。") % {"day": worker.hire_date})
    if ended_on is not None and ended_on < started_on:
        _add(errors, "ended_on", _("免职日期不能早于任职日期。"))
    return title


@transaction.atomic
def post_add(*, actor, worker: Worker, post_type: str, title: str, started_on: dt.date,
             ended_on: dt.date | None = None) -> PostHolding:
    """任职: the worker holds a post (正职 / 副职 / 专职 / 其他) from `started_on` (to `ended_on`)."""
    ensure_can(actor, PERMISSION, worker.community.code)
    errors: dict[str, list] = {}
    if worker.status != WorkerStatus.ACTIVE:
        _add(errors, "worker", _("该工作者已离岗，不能再任职。"))
    title = _clean_post(errors, worker, post_type, title, started_on, ended_on)
    _raise(errors)
    post = PostHolding.objects.unscoped().create(worker=worker, post_type=post_type, title=title,
                                                 started_on=started_on, ended_on=ended_on)
    audit.record(actor=actor, action="workforce.post.added", obj=post, after=audit.snapshot(post, POST_FIELDS))
    return post


def _end(actor, post: PostHolding, ended_on: dt.date) -> None:
    before = audit.snapshot(post, ["ended_on"])
    post.ended_on = ended_on
    post.save(update_fields=["ended_on"])
    audit.record(actor=actor, action="workforce.post.ended", obj=post, before=before,
                 after=audit.snapshot(post, ["ended_on"]))


@transaction.atomic
def post_end(*, actor, post: PostHolding, ended_on: dt.date) -> PostHolding:
    """免职: the post's last day is `ended_on`."""
    ensure_can(actor, PERMISSION, post.worker.community.code)
    errors: dict[str, list] = {}
    if post.ended_on is not None:
        _add(errors, "ended_on", _("该任职已于 %(day)s 结束。") % {"day": post.ended_on})
    elif not isinstance(ended_on, dt.date):
        _add(errors, "ended_on", _("请填写免职日期。"))
    elif ended_on < post.started_on:
        _add(errors, "ended_on", _("免职日期不能早于任职日期。"))
    _raise(errors)
    _end(actor, post, ended_on)
    return post


# --- the xlsx import -------------------------------------------------------------------

ROSTER_KIND = ImportKind(
    code="workforce_roster",
    label=gettext_lazy("社区工作者"),
    sheet_title="社区工作者",
    columns=(
        Column("name", "姓名", True, gettext_lazy("姓名；身份证号已登记的人员直接使用已有记录。"), "张三", 12),
        Column("phone", "手机号", False, gettext_lazy("11 位手机号；可不填。"), "13800138000", 14, text=True),
        Column("id_number", "身份证号", False, gettext_lazy("18 位公民身份号码；请以文本格式填写。"),
               "110101199003070011", 22, text=True),
        Column("community_code", "社区代码", True, gettext_lazy("所在社区的 12 位统计用区划代码。"), "", 16, text=True),
        Column("hire_date", "入职日期", True, gettext_lazy("如 2020-03-01。"), "2020-03-01", 12),
        Column("education", "学历", False, gettext_lazy("高中及以下、大专、本科、硕士或博士；不填视为大专。"), "本科", 10),
        Column("has_diploma", "有学历证书", False, gettext_lazy("是或否；不填视为是。"), "是", 10),
        Column("has_degree", "有学位证书", False, gettext_lazy("是或否；不填视为是。"), "是", 10),
        Column("certificate", "社工证", False, gettext_lazy("助理社会工作师、社会工作师或高级社会工作师；可不填。"), "", 16),
        Column("post_type", "岗位类别", False, gettext_lazy("正职、副职、专职或其他；填写后须填职务和任职日期。"), "专职", 10),
        Column("title", "职务", False, gettext_lazy("如书记、主任、副主任、网格员。"), "网格员", 12),
        Column("started_on", "任职日期", False, gettext_lazy("如 2020-03-01。"), "2020-03-01", 12),
    ),
)
YES = {"是", "有", "y", "yes", "true", "1", "√"}
NO = {"否", "无", "n", "no", "false", "0", "×"}


def template_bytes() -> bytes:
    """The import template: the header row (and column widths), nothing else."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = ROSTER_KIND.sheet_title
    ws.append([c.header for c in ROSTER_KIND.columns])
    for index, column in enumerate(ROSTER_KIND.columns, start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = column.width + 4
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _date_cell(value: Any) -> dt.date | None | str:
    """A date cell: a date, None when blank, or the text when it is not a date."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value)
    if not text:
        return None
    for sep in ("-", "/", "."):
        parts = text.split(sep)
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))
            except ValueError:
                break
    return text


def _bool_cell(value: Any, default: bool = True) -> bool | None:
    text = _text(value).lower()
    if not text:
        return default
    if text in YES:
        return True
    if text in NO:
        return False
    return None


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


@dataclass
class ImportOutcome:
    workers: list[Worker]
    errors: list[str]


class _Rollback(Exception):
    pass


def _row(actor, record: dict, areas: dict[str, Area | None]) -> Worker:
    """Create one row's worker (and post); raises ValidationError with the row's messages."""
    problems: list[str] = []
    code = _text(record.get("community_code"))
    community = areas.get(code)
    if not code:
        problems.append(_("请填写社区代码。"))
    elif community is None:
        problems.append(_("社区代码“%(code)s”不存在。") % {"code": code})
    hire = _date_cell(record.get("hire_date"))
    if hire is None:
        problems.append(_("请填写入职日期。"))
    elif not isinstance(hire, dt.date):
        problems.append(_("入职日期“%(v)s”不是有效日期。") % {"v": hire})
    flags = {}
    for key, label in (("has_diploma", _("有学历证书")), ("has_degree", _("有学位证书"))):
        flags[key] = _bool_cell(record.get(key))
        if flags[key] is None:
            problems.append(_("%(label)s应填“是”或“否”。") % {"label": label})
    post_type = _text(record.get("post_type"))
    title = _text(record.get("title"))
    started = _date_cell(record.get("started_on"))
    if started is not None and not isinstance(started, dt.date):
        problems.append(_("任职日期“%(v)s”不是有效日期。") % {"v": started})
    if (title or started) and not post_type:
        problems.append(_("填写职务时请填写岗位类别。"))
    if post_type and post_type not in PostType.values:
        problems.append(_("岗位类别“%(v)s”无效，应为正职、副职、专职或其他。") % {"v": post_type})
    if problems:
        raise ValidationError(problems)
    if community is not None:
        try:
            ensure_can(actor, PERMISSION, community.code)
        except PermissionDenied:
            raise ValidationError(_("您没有在“%(name)s”登记社区工作者的权限。") % {"name": community.name}) from None
    person = None
    id_number = _text(record.get("id_number")).upper()
    if id_number:
        try:
            id_number = validate_id_number(id_number)
        except ValidationError:
            pass  # person_create reports it
        else:
            person = Person.objects.unscoped().filter(id_number_index=blind_index("id_number", id_number)).first()
    worker = worker_create(
        actor=actor, community=community, hire_date=hire, person=person, name=_text(record.get("name")),
        phone=_text(record.get("phone")), id_number=id_number,
        education=_text(record.get("education")) or Education.COLLEGE,
        has_diploma=flags["has_diploma"], has_degree=flags["has_degree"],
        certificate=_text(record.get("certificate")))
    if post_type:
        post_add(actor=actor, worker=worker, post_type=post_type, title=title, started_on=started or hire)
    return worker


def roster_import(actor, file) -> ImportOutcome:
    """Import the roster xlsx: every row or none.  Returns the workers created, or (nothing
    saved) the errors, one "第 N 行：…" per failing row; a file that cannot be read at all gives
    one message."""
    content = file.read() if hasattr(file, "read") else bytes(file)
    try:
        sheet = read_sheet(ROSTER_KIND, content)
    except ImportFileError as exc:
        return ImportOutcome([], [exc.message])
    codes = {_text(record.get("community_code")) for _n, record in sheet.rows}
    areas = {a.code: a for a in Area.objects.unscoped().filter(code__in=codes, level=AreaLevel.COMMUNITY)}
    workers: list[Worker] = []
    errors: list[str] = []
    try:
        with transaction.atomic():
            for number, record in sheet.rows:
                try:
                    with transaction.atomic():
                        workers.append(_row(actor, record, areas))
                except ValidationError as exc:
                    errors.append(_("第 %(n)d 行：%(message)s") % {"n": number,
                                                                  "message": " ".join(_messages(exc))})
            if errors:
                raise _Rollback
    except _Rollback:
        return ImportOutcome([], errors)
    return ImportOutcome(workers, [])
