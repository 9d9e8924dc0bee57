"""xlsx import of organisations and people: all rows or none (DESIGN §4 "imports are
atomic with per-row errors", "long work runs as a task with a progress bar").

1. `template_workbook(kind, user)`: the template to download: fixed Chinese headers,
   an example row, drop-down lists for enumerations, the areas the user may import
   into and a notes sheet that explains every column.
2. `read_sheet(kind, content)`: checks that an upload is a real xlsx within the size
   and row limits and has the template's headers; raises ImportFileError with a
   message the clerk can act on.
3. `import_job_submit(...)`: stores the file in an ImportJob and enqueues the task on
   commit.
4. `import_job_execute(job_id)`: run by the task worker.  It claims the job, validates
   every row while writing its progress in short transactions of their own (so the
   web process sees it and, on SQLite, no long write transaction blocks other
   writers), then, only when no row has an error, creates everything in ONE short
   transaction through the orgs bulk services (`organisations_create_many`,
   `people_create_many`: bulk INSERTs, one audit entry per object) and marks the job
   succeeded in it.  What needs no database (cleaning, pinyin, blind indexes, audit
   payloads) is prepared before that transaction opens, so on SQLite other writers
   wait well under 3 s for 20,000 rows (docs/performance.md, "Importing spreadsheets").
   A job with any error imports nothing and lists each error with its sheet row and
   column.
"""

from __future__ import annotations

import abc
import io
import logging
import re
import time
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import reduce
from operator import or_
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from zhouxin.core import audit
from zhouxin.core.choices import AuditResult, JobStatus
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import ImportJob
from zhouxin.core.permissions import can, ensure_can, roles_for
from zhouxin.core.scoping import activate, scope_for_user

from .choices import PARTY_KINDS, AreaLevel, OrgKind
from .models import Area, Organisation, Person, Sector
from .services import (
    BatchValidationError,
    PreparedRows,
    organisations_create_many,
    organisations_prepare_many,
    people_create_many,
    people_prepare_many,
    validate_credit_code,
)
from .validators import validate_id_number, validate_mobile_phone

logger = logging.getLogger("zhouxin.orgs.imports")

MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_ROWS = 20_000
# A 5 MB xlsx of plain text unpacks to a few tens of MB; far more means a zip bomb.
MAX_UNPACKED_BYTES = 200 * 1024 * 1024
# Progress is written after this many validated rows (each write is its own short transaction).
PROGRESS_EVERY = 100
# A file full of mistakes must not turn into a huge job row; the count is still reported.
MAX_STORED_ERRORS = 1000
EXAMPLE_MARKER = "（示例）"

ORGANISATIONS = "organisations"
PEOPLE = "people"

YES_WORDS = {"是", "y", "yes", "true", "1", "党员"}
NO_WORDS = {"否", "n", "no", "false", "0", ""}


class ImportFileError(Exception):
    """The uploaded file cannot be imported at all (not xlsx, too big, wrong headers …)."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Column:
    key: str
    # The header is part of the file format: the same Chinese text whatever the interface language.
    header: str
    required: bool
    note: Promise
    example: str = ""
    width: int = 18
    text: bool = False  # formatted as text in the template so Excel keeps leading digits and 18-digit numbers


@dataclass(frozen=True)
class ImportKind:
    code: str
    label: Promise
    sheet_title: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    def header(self, key: str) -> str:
        return self.column(key).header


ORG_KIND = ImportKind(
    code=ORGANISATIONS,
    label=gettext_lazy("组织"),
    sheet_title="组织",
    columns=(
        Column("name", "名称", True, gettext_lazy("组织全称，最多 128 个字；同一区域内不能重名。"),
               "多福巷社区第二党支部", 30),
        Column("kind", "组织类型", True, gettext_lazy("从下拉列表中选择：%(kinds)s。"), "党支部", 14),
        Column("area_code", "所在区域代码", True,
               gettext_lazy("组织所在区域的统计用区划代码，见“区域代码”工作表；必须在您选择的导入范围内。"),
               "", 18, text=True),
        Column("party_parent", "上级党组织", False,
               gettext_lazy("上级党组织的全称：可以是系统中您管辖范围内已有的党组织，也可以是本文件中排在前面的党组织。"),
               "中共多福巷社区委员会", 26),
        Column("sector", "行业系统", False, gettext_lazy("所属行业系统（条），从下拉列表中选择；可不填。"), "", 14),
        Column("credit_code", "统一社会信用代码", False, gettext_lazy("18 位统一社会信用代码（GB 32100）；可不填。"),
               "", 22, text=True),
        Column("address", "地址", False, gettext_lazy("办公地址，最多 200 个字；可不填。"), "", 30),
        Column("contact_phone", "办公电话", False, gettext_lazy("办公电话，如 010-65123456；可不填。"), "", 16,
               text=True),
        Column("member_count", "党员人数", False, gettext_lazy("党组织的党员人数，填写 0 或正整数；可不填。"), "", 10),
    ),
)

PERSON_KIND = ImportKind(
    code=PEOPLE,
    label=gettext_lazy("人员"),
    sheet_title="人员",
    columns=(
        Column("name", "姓名", True, gettext_lazy("姓名，最多 64 个字。"), "张三", 12),
        Column("home_area_code", "居住区域代码", True,
               gettext_lazy("居住的社区或网格的统计用区划代码，见“区域代码”工作表；必须在您选择的导入范围内。"),
               "", 18, text=True),
        Column("phone", "手机号", False, gettext_lazy("11 位手机号；可不填。将加密保存，页面和导出中只显示脱敏后的号码。"),
               "13800138000", 14, text=True),
        Column("id_number", "身份证号", False,
               gettext_lazy("18 位公民身份号码（GB 11643，校验位会被检查）；可不填。请以文本格式填写，"
                            "否则 Excel 会丢失末几位。将加密保存。"),
               "110101199003070011", 22, text=True),
        Column("work_unit", "工作单位", False, gettext_lazy("工作单位的全称，须是您管辖范围内已登记的组织；可不填。"), "", 26),
        Column("is_party_member", "是否党员", False, gettext_lazy("填写“是”或“否”；不填视为“否”。"), "是", 10),
        Column("party_branch", "所在党组织", False,
               gettext_lazy("党员所在党组织的全称，须是您管辖范围内已登记的党组织；只有党员才填写。"),
               "中共多福巷社区委员会", 26),
    ),
)

KINDS: dict[str, ImportKind] = {ORGANISATIONS: ORG_KIND, PEOPLE: PERSON_KIND}


def kind_for(code: str) -> ImportKind:
    return KINDS[code]


# --- the areas a user may import into -------------------------------------------

def import_areas(user, *, within: Area | None = None, levels: Iterable[str] | None = None):
    """Areas the user may import into: the subtrees of grants whose role may import."""
    prefixes = scope_for_user(user).prefixes(roles_for("orgs.import"))
    queryset = Area.objects.restrict(user).filter(is_active=True)
    if not prefixes:
        return queryset.none()
    queryset = queryset.filter(reduce(or_, [Q(code__startswith=p) for p in prefixes]))
    if within is not None:
        queryset = queryset.filter(code__startswith=within.code)
    if levels is not None:
        queryset = queryset.filter(level__in=list(levels))
    return queryset.order_by("code")


def import_roots(user):
    """The nodes a user can choose as the import scope: their import grants' nodes and what lies below
    down to community level (a street hub may import into the whole street or one community)."""
    return import_areas(user).exclude(level=AreaLevel.GRID)


PERSON_AREA_LEVELS = (AreaLevel.COMMUNITY, AreaLevel.GRID)


# --- template --------------------------------------------------------------------

def _enum_labels() -> list[str]:
    with translation.override("zh-hans"):
        return [str(label) for label in OrgKind.labels]


def template_workbook(kind: ImportKind, user) -> bytes:
    """The template for `kind`, with the areas `user` may import into."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    ws.title = kind.sheet_title
    levels = PERSON_AREA_LEVELS if kind is PERSON_KIND else None
    areas = list(import_areas(user, levels=levels).values_list("code", "name", "level"))

    # Area list sheet: what codes exist and may be used (also the source of the drop-down list).
    area_sheet = wb.create_sheet("区域代码")
    area_sheet.append(["区域代码", "名称", "层级"])
    level_labels = dict(AreaLevel.choices)
    for code, name, level in areas:
        area_sheet.append([code, name, str(level_labels.get(level, level))])
    area_sheet.column_dimensions["A"].width = 18
    area_sheet.column_dimensions["B"].width = 28
    area_sheet.freeze_panes = "A2"

    # Hidden option lists for the drop-downs.
    options = wb.create_sheet("选项")
    kinds = _enum_labels()
    sectors = list(Sector.objects.order_by("name").values_list("name", flat=True))
    for i, label in enumerate(kinds, start=1):
        options.cell(row=i, column=1, value=label)
    for i, name in enumerate(sectors, start=1):
        options.cell(row=i, column=2, value=name)
    options.cell(row=1, column=3, value="是")
    options.cell(row=2, column=3, value="否")
    options.sheet_state = "hidden"

    header_font = Font(bold=True, color="FFFFFF")
    required_fill = PatternFill("solid", fgColor="C8161D")
    optional_fill = PatternFill("solid", fgColor="6C757D")
    example_font = Font(italic=True, color="808080")
    last_row = MAX_ROWS + 1
    example = _example_row(kind, areas)
    for index, column in enumerate(kind.columns, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index, value=column.header)
        cell.font = header_font
        cell.fill = required_fill if column.required else optional_fill
        cell.alignment = Alignment(horizontal="center")
        cell.comment = Comment(_note_text(column), "轴心")
        ws.column_dimensions[letter].width = column.width
        if column.text:
            ws.column_dimensions[letter].number_format = "@"
        value = example.get(column.key, "")
        example_cell = ws.cell(row=2, column=index, value=value or None)
        example_cell.font = example_font
        if column.text:
            example_cell.number_format = "@"
        source = None
        if column.key == "kind":
            source = f"选项!$A$1:$A${len(kinds)}"
        elif column.key == "sector" and sectors:
            source = f"选项!$B$1:$B${len(sectors)}"
        elif column.key == "is_party_member":
            source = "选项!$C$1:$C$2"
        elif column.key in {"area_code", "home_area_code"} and areas:
            source = f"区域代码!$A$2:$A${len(areas) + 1}"
        if source:
            validation = DataValidation(type="list", formula1=source, allow_blank=not column.required,
                                        showErrorMessage=True, errorTitle=_("输入有误"),
                                        error=_("请从下拉列表中选择。"))
            validation.add(f"{letter}2:{letter}{last_row}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"

    notes = wb.create_sheet("填写说明", 1)
    notes.append([_("列名"), _("是否必填"), _("说明"), _("示例")])
    for column in kind.columns:
        notes.append([column.header, _("必填") if column.required else _("选填"), _note_text(column),
                      example.get(column.key, "")])
    notes.append([])
    for line in (
        _("第 2 行是示例，名称以“%(marker)s”开头；导入前请删除或改写这一行。") % {"marker": EXAMPLE_MARKER},
        _("不要修改第 1 行的列名，也不要改动工作表的顺序：系统读取第一个工作表。"),
        _("红色列名为必填列，灰色列名为选填列。"),
        _("每个文件最多 %(rows)s 行数据、不超过 %(mb)s MB。") % {"rows": f"{MAX_ROWS:,}",
                                                              "mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
        _("导入是整体进行的：只要有一行有错误，就不会导入任何数据；请按错误列表改正后重新上传。"),
    ):
        notes.append([line])
    for cell in notes[1]:
        cell.font = Font(bold=True)
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 10
    notes.column_dimensions["C"].width = 80
    notes.column_dimensions["D"].width = 24

    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _note_text(column: Column) -> str:
    if column.key == "kind":
        return str(column.note) % {"kinds": pgettext("列表分隔", "、").join(_enum_labels())}
    return str(column.note)


def _example_row(kind: ImportKind, areas: list[tuple[str, str, str]]) -> dict[str, str]:
    example = {c.key: c.example for c in kind.columns}
    example["name"] = EXAMPLE_MARKER + example["name"]
    area_key = "area_code" if kind is ORG_KIND else "home_area_code"
    communities = [code for code, _name, level in areas if level == AreaLevel.COMMUNITY]
    example[area_key] = (communities or [code for code, _n, _l in areas] or [""])[0]
    return example


# --- reading an upload -----------------------------------------------------------

@dataclass
class Sheet:
    kind: ImportKind
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def _header_text(value: Any) -> str:
    return re.sub(r"[\s\u3000*＊]+", "", str(value)) if value is not None else ""


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_sheet(kind: ImportKind, content: bytes) -> Sheet:
    """Open an uploaded file as `kind`, or raise ImportFileError saying what is wrong with it."""
    if not content:
        raise ImportFileError(_("文件是空的，请选择填写好的 Excel 文件。"))
    if len(content) > MAX_UPLOAD_BYTES:
        raise ImportFileError(_("文件超过 %(mb)s MB，请拆分成几个文件分批导入。")
                              % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)})
    if content[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise ImportFileError(_("这是旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 格式后再上传。"))
    not_xlsx = _("这不是有效的 Excel（.xlsx）文件。请下载模板填写，并以 .xlsx 格式保存后上传。")
    if content[:4] != b"PK\x03\x04":
        raise ImportFileError(not_xlsx)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            unpacked = sum(info.file_size for info in archive.infolist())
    except zipfile.BadZipFile:
        raise ImportFileError(not_xlsx) from None
    if "[Content_Types].xml" not in names or "xl/workbook.xml" not in names:
        raise ImportFileError(not_xlsx)
    if unpacked > MAX_UNPACKED_BYTES:
        raise ImportFileError(_("文件解压后过大，无法导入。请只保留需要导入的数据。"))

    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds of errors for damaged files
        raise ImportFileError(not_xlsx) from None
    try:
        if not wb.worksheets:
            raise ImportFileError(not_xlsx)
        ws = wb.worksheets[0]
        rows = ws.iter_rows(values_only=True)
        header = next(rows, None) or ()
        headers = [_header_text(v) for v in header]
        while headers and not headers[-1]:
            headers.pop()
        positions = _header_positions(kind, headers)
        sheet = Sheet(kind=kind)
        for row_number, values in enumerate(rows, start=2):
            if values is None or all(_is_blank(v) for v in values):
                continue
            if len(sheet.rows) >= MAX_ROWS:
                raise ImportFileError(_("文件中的数据超过 %(rows)s 行，请拆分成几个文件分批导入。")
                                      % {"rows": f"{MAX_ROWS:,}"})
            record = {key: (values[pos] if pos < len(values) else None) for key, pos in positions.items()}
            sheet.rows.append((row_number, record))
    except ImportFileError:
        raise
    except Exception:
        raise ImportFileError(not_xlsx) from None
    finally:
        wb.close()
    if not sheet.rows:
        raise ImportFileError(_("文件中没有数据行：请从第 2 行开始填写。"))
    return sheet


def _header_positions(kind: ImportKind, headers: list[str]) -> dict[str, int]:
    by_header = {c.header: c for c in kind.columns}
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for pos, text in enumerate(headers):
        if not text:
            continue
        column = by_header.get(text)
        if column is None:
            unknown.append(text)
        elif column.key in positions:
            raise ImportFileError(_("第 1 行中“%(header)s”列出现了两次。") % {"header": text})
        else:
            positions[column.key] = pos
    missing = [c.header for c in kind.columns if c.required and c.key not in positions]
    if missing or unknown:
        parts = []
        if missing:
            parts.append(_("缺少必填列：%(cols)s") % {"cols": pgettext("列表分隔", "、").join(missing)})
        if unknown:
            parts.append(_("无法识别的列：%(cols)s") % {"cols": pgettext("列表分隔", "、").join(unknown)})
        raise ImportFileError(
            _("表头与“%(kind)s”导入模板不符（%(detail)s）。请下载最新模板，不要修改第 1 行的列名。")
            % {"kind": kind.label, "detail": pgettext("列表分隔", "；").join(parts)}
        )
    return positions


# --- the job ---------------------------------------------------------------------

def import_job_submit(*, actor, kind: ImportKind, area: Area, filename: str, content: bytes, total: int,
                      language: str = "") -> ImportJob:
    """Store an upload that passed `read_sheet` as a job and start its task when the job is committed."""
    from .tasks import run_import_job

    ensure_can(actor, "orgs.import", area.code)
    with transaction.atomic():
        job = ImportJob.objects.create(
            kind=kind.code, filename=filename[:200], content=content, total=total, scope_area=area,
            created_by=actor,
        )
        audit.record(actor=actor, action="orgs.import.submitted", obj=job,
                     after={"kind": kind.code, "filename": job.filename, "rows": total, "area": area.code})
        job_id = job.pk
        transaction.on_commit(lambda: run_import_job.enqueue(job_id=job_id, language=language))
    return job


def job_visible_to(job: ImportJob, user) -> bool:
    """The submitter, and anyone who may import into the job's area, may follow a job."""
    return job.created_by_id == user.pk or can(user, "orgs.import", job.scope_area.code)


@dataclass
class RowError:
    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class _Plan:
    """What the final transaction will create, everything already resolved."""

    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def import_job_execute(job_id: int, language: str = "") -> str:
    """Run one job (called by the task worker).  Returns the job's final status."""
    claimed = ImportJob.objects.filter(pk=job_id, status=JobStatus.PENDING).update(
        status=JobStatus.RUNNING, processed=0)
    if claimed != 1:  # already run by another worker, or gone
        return ImportJob.objects.filter(pk=job_id).values_list("status", flat=True).first() or ""
    job = ImportJob.objects.select_related("created_by", "scope_area").get(pk=job_id)
    with translation.override(language or None):
        try:
            return _execute(job)
        except Exception:
            logger.exception("import job %s failed unexpectedly", job_id)
            _finish_failed(job, [RowError(None, "", _("导入时发生内部错误，未导入任何数据。请稍后重试或联系系统管理员。"))])
            return JobStatus.FAILED


def _execute(job: ImportJob) -> str:
    user = job.created_by
    kind = KINDS.get(job.kind)
    if kind is None:
        _finish_failed(job, [RowError(None, "", _("未知的导入类型。"))])
        return JobStatus.FAILED
    if not user.is_active or not can(user, "orgs.import", job.scope_area.code):
        _finish_failed(job, [RowError(None, "", _("您已没有向“%(area)s”导入数据的权限，未导入任何数据。")
                                      % {"area": job.scope_area.name})])
        return JobStatus.FAILED
    try:
        sheet = read_sheet(kind, bytes(job.content))
    except ImportFileError as exc:
        _finish_failed(job, [RowError(None, "", exc.message)])
        return JobStatus.FAILED
    if len(sheet.rows) != job.total:
        ImportJob.objects.filter(pk=job.pk).update(total=len(sheet.rows))
        job.total = len(sheet.rows)

    # Everything the importer reads is limited to their own grants, whatever the services look up.
    with activate(scope_for_user(user)):
        validator = (_OrganisationRows if kind is ORG_KIND else _PersonRows)(job, kind)
        errors, plan = validator.validate(sheet, progress=lambda n: _write_progress(job.pk, n))
        if errors:
            _finish_failed(job, errors)
            return JobStatus.FAILED
        return validator.commit(plan)


def _write_progress(job_id: int, processed: int) -> None:
    # Autocommit: one short write transaction, visible to the web process at once.
    ImportJob.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(processed=processed)


def _finish_failed(job: ImportJob, errors: list[RowError]) -> None:
    errors = sorted(errors, key=lambda e: (e.row or 0, e.column))
    stored = [e.as_dict() for e in errors[:MAX_STORED_ERRORS]]
    if len(errors) > MAX_STORED_ERRORS:
        stored.append(RowError(None, "", _("另有 %(n)s 处错误未列出，请先改正以上错误。")
                               % {"n": len(errors) - MAX_STORED_ERRORS}).as_dict())
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=JobStatus.FAILED, errors=stored, created_count=0, finished_at=timezone.now())
        audit.record(actor=job.created_by, action="orgs.import.failed", obj=job, result=AuditResult.FAILED,
                     after={"kind": job.kind, "rows": job.total, "errors": len(errors)})


# --- cell values -----------------------------------------------------------------

def _text(value: Any) -> str:
    """A cell as text: integral numbers without '.0', dates as ISO, whitespace trimmed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).replace("\u3000", " ").strip()


class _Rows(abc.ABC):
    """Row validation shared by both kinds: per-row checks with progress, then one commit."""

    def __init__(self, job: ImportJob, kind: ImportKind):
        self.job = job
        self.kind = kind
        self.user = job.created_by
        self.scope_area = job.scope_area
        self.errors: list[RowError] = []

    # Subclasses fill these.
    @abc.abstractmethod
    def check_row(self, row: int, raw: dict[str, Any]) -> dict[str, Any] | None:
        """The row's cleaned values, or None after recording its errors."""

    def check_all(self, plan: _Plan) -> None:  # noqa: B027 - an optional hook, not abstract
        """Checks across rows that need the database in bulk (after the per-row pass); none by default."""

    # The service's field name → the sheet column it came from (for errors found at commit).
    FIELD_COLUMNS: dict[str, str] = {}

    @abc.abstractmethod
    def prepare(self, plan: _Plan) -> PreparedRows:
        """The bulk service's preparation of the plan's rows (no database, no transaction)."""

    @abc.abstractmethod
    def create_many(self, prepared: PreparedRows) -> list[Any]:
        """Write the prepared rows through the bulk service (inside the import's transaction)."""

    def error(self, row: int | None, key: str, message: str) -> None:
        self.errors.append(RowError(row, self.kind.header(key) if key else "", str(message)))

    def validate(self, sheet: Sheet, progress: Callable[[int], None]) -> tuple[list[RowError], _Plan]:
        plan = _Plan()
        for done, (row, raw) in enumerate(sheet.rows, start=1):
            before = len(self.errors)
            item = self.check_row(row, raw)
            if item is not None and len(self.errors) == before:
                plan.rows.append((row, item))
            if done % PROGRESS_EVERY == 0:
                progress(done)
        self.check_all(plan)
        progress(len(sheet.rows))
        return self.errors, plan

    def commit(self, plan: _Plan) -> str:
        """Create every row in ONE transaction with the bulk services; the job is marked
        succeeded in the same transaction.  The rows are prepared before it opens."""
        job = self.job
        try:
            prepared = self.prepare(plan)
            started = time.perf_counter()
            with transaction.atomic():
                created = self.create_many(prepared)
                ImportJob.objects.filter(pk=job.pk).update(
                    status=JobStatus.SUCCEEDED, processed=job.total, created_count=len(created),
                    finished_at=timezone.now())
                audit.record(actor=self.user, action="orgs.import.succeeded", obj=job,
                             after={"kind": job.kind, "rows": job.total, "created": len(created),
                                    "area": self.scope_area.code})
            logger.info("import job %s: %s rows written in one transaction of %.2f s",
                        job.pk, len(created), time.perf_counter() - started)
        except BatchValidationError as exc:  # what changed in the database since the rows were checked
            self._rows_refused(plan, exc)
            return JobStatus.FAILED
        except ValidationError as exc:
            self._commit_failed(None, " ".join(exc.messages))
            return JobStatus.FAILED
        except PermissionDenied:
            self._commit_failed(None, _("您没有权限在该区域登记，未导入任何数据。"))
            return JobStatus.FAILED
        except DatabaseError:
            logger.warning("import job %s: write failed", job.pk, exc_info=True)
            self._commit_failed(None, _("写入时与其他人同时登记的数据冲突（例如重名或身份证号重复），未导入任何数据。"
                                        "请刷新后重新上传。"))
            return JobStatus.FAILED
        return JobStatus.SUCCEEDED

    def _rows_refused(self, plan: _Plan, exc: BatchValidationError) -> None:
        errors = []
        for index, fields in exc.rows.items():
            row = plan.rows[index][0]
            for name, messages in fields.items():
                key = self.FIELD_COLUMNS.get(name, "")
                errors.extend(RowError(row, self.kind.header(key) if key else "", str(m)) for m in messages)
        self.job.refresh_from_db(fields=["total"])
        _finish_failed(self.job, errors)

    def _commit_failed(self, row: int | None, message: str) -> None:
        self.job.refresh_from_db(fields=["total"])
        _finish_failed(self.job, [RowError(row, "", message)])

    # Helpers for the checks.
    def required_text(self, row: int, raw: dict[str, Any], key: str, max_length: int) -> str:
        value = " ".join(_text(raw.get(key)).split())
        if not value:
            self.error(row, key, _("必填，不能为空。"))
        elif len(value) > max_length:
            self.error(row, key, _("不能超过 %(n)s 个字。") % {"n": max_length})
        return value

    def optional_text(self, row: int, raw: dict[str, Any], key: str, max_length: int) -> str:
        value = " ".join(_text(raw.get(key)).split())
        if len(value) > max_length:
            self.error(row, key, _("不能超过 %(n)s 个字。") % {"n": max_length})
        return value

    def load_areas(self, levels=None) -> dict[str, Area]:
        # The importer's own scope (Area.objects.restrict) within the job's area: nothing else exists here.
        queryset = import_areas(self.user, within=self.scope_area, levels=levels)
        return {area.code: area for area in queryset}

    def area(self, row: int, raw: dict[str, Any], key: str, areas: dict[str, Area], level_hint: str = "") -> Area | None:
        code = _text(raw.get(key))
        if not code:
            self.error(row, key, _("必填，不能为空。"))
            return None
        area = areas.get(code)
        if area is None:
            self.error(row, key, _("区域代码“%(code)s”不存在，或不在本次导入范围“%(area)s”内%(hint)s。")
                       % {"code": code, "area": self.scope_area.name, "hint": level_hint})
        return area

    def organisations_by_name(self, *, party_only: bool) -> dict[str, list[Organisation]]:
        queryset = Organisation.objects.restrict(self.user).filter(is_active=True).select_related("area")
        if party_only:
            queryset = queryset.filter(kind__in=sorted(PARTY_KINDS))
        found: dict[str, list[Organisation]] = {}
        for org in queryset:
            found.setdefault(org.name, []).append(org)
        return found

    def one_by_name(self, row: int, key: str, name: str, candidates: dict[str, list[Organisation]],
                    missing: str) -> Organisation | None:
        matches = candidates.get(name, [])
        if not matches:
            self.error(row, key, missing % {"name": name})
            return None
        if len(matches) > 1:
            where = pgettext("列表分隔", "、").join(f"{o.area.name}" for o in matches[:5])
            self.error(row, key, _("您的管辖范围内有 %(n)s 个名为“%(name)s”的组织（%(where)s），无法确定是哪一个。")
                       % {"n": len(matches), "name": name, "where": where})
            return None
        return matches[0]

    def not_example(self, row: int, name: str) -> None:
        if name.startswith(EXAMPLE_MARKER):
            self.error(row, "name", _("这是模板中的示例行，请删除或改写后再上传。"))


# The same rule as organisation_create, checked here so that every row is reported before anything is written.
_OFFICE_PHONE = re.compile(r"^[0-9+\-() 转]{3,32}$")


class _OrganisationRows(_Rows):
    FIELD_COLUMNS = {"name": "name", "kind": "kind", "area": "area_code", "party_parent": "party_parent",
                     "sector": "sector", "credit_code": "credit_code", "address": "address",
                     "contact_phone": "contact_phone", "member_count": "member_count"}

    def __init__(self, job, kind):
        super().__init__(job, kind)
        self.areas = self.load_areas()
        self.kinds: dict[str, str] = {}
        for value, label in OrgKind.choices:
            self.kinds[value] = value
            self.kinds[str(label).lower()] = value
        with translation.override("zh-hans"):
            for value, label in OrgKind.choices:
                self.kinds[str(label)] = value
        self.sectors = {s.name: s for s in Sector.objects.all()}
        self.parents = self.organisations_by_name(party_only=True)
        self.existing = set(
            Organisation.objects.restrict(self.user).filter(area__code__startswith=self.scope_area.code)
            .values_list("area__code", "name"))
        self.in_file: dict[tuple[str, str], int] = {}
        self.in_file_party: dict[str, list[int]] = {}

    def check_row(self, row, raw):
        name = self.required_text(row, raw, "name", 128)
        self.not_example(row, name)
        kind_text = _text(raw.get("kind"))
        kind = self.kinds.get(kind_text) or self.kinds.get(kind_text.lower())
        if not kind_text:
            self.error(row, "kind", _("必填，不能为空。"))
        elif kind is None:
            self.error(row, "kind", _("“%(value)s”不是有效的组织类型，应为：%(kinds)s。")
                       % {"value": kind_text, "kinds": pgettext("列表分隔", "、").join(_enum_labels())})
        area = self.area(row, raw, "area_code", self.areas)
        if area is not None and name:
            key = (area.code, name)
            if key in self.in_file:
                self.error(row, "name", _("与第 %(row)s 行重复：同一区域内已有同名组织“%(name)s”。")
                           % {"row": self.in_file[key], "name": name})
            elif key in self.existing:
                self.error(row, "name", _("“%(area)s”已有同名组织“%(name)s”。") % {"area": area.name, "name": name})
            else:
                self.in_file[key] = row

        parent_name = _text(raw.get("party_parent"))
        parent: Organisation | int | None = None
        if parent_name:
            earlier = self.in_file_party.get(parent_name, [])
            known = self.parents.get(parent_name, [])
            if len(earlier) + len(known) > 1:
                self.error(row, "party_parent", _("有多个名为“%(name)s”的党组织，无法确定是哪一个。")
                           % {"name": parent_name})
            elif earlier:
                parent = earlier[0]  # a party organisation created by an earlier row of this file
            elif known:
                parent = known[0]
            else:
                self.error(row, "party_parent",
                           _("未找到上级党组织“%(name)s”：须是您管辖范围内已有的党组织，或本文件中排在前面的党组织。")
                           % {"name": parent_name})
        sector_name = _text(raw.get("sector"))
        sector = None
        if sector_name:
            sector = self.sectors.get(sector_name)
            if sector is None:
                self.error(row, "sector", _("“%(value)s”不是系统中的行业系统，请从下拉列表中选择。")
                           % {"value": sector_name})
        credit_code = _text(raw.get("credit_code"))
        try:
            credit_code = validate_credit_code(credit_code)
        except ValidationError as exc:
            self.error(row, "credit_code", " ".join(exc.messages))
        address = self.optional_text(row, raw, "address", 200)
        contact_phone = _text(raw.get("contact_phone"))
        if contact_phone and not _OFFICE_PHONE.match(contact_phone):
            self.error(row, "contact_phone", _("办公电话只能包含数字、空格、括号、+ 和 -，例如 010-65123456。"))
        member_count = None
        count_text = _text(raw.get("member_count"))
        if count_text:
            if count_text.isdigit() and int(count_text) <= 1_000_000:
                member_count = int(count_text)
            else:
                self.error(row, "member_count", _("党员人数应为 0 或正整数。"))
        if kind in PARTY_KINDS and name:
            self.in_file_party.setdefault(name, []).append(row)
        return {"name": name, "kind": kind, "area": area, "party_parent": parent, "sector": sector,
                "credit_code": credit_code, "address": address, "contact_phone": contact_phone,
                "member_count": member_count}

    def prepare(self, plan):
        # A parent defined by an earlier row of the file is that row's index in the batch.
        index_of_row = {row: index for index, (row, _item) in enumerate(plan.rows)}
        return organisations_prepare_many(actor=self.user, rows=[
            {**item, "party_parent": index_of_row[item["party_parent"]]
             if isinstance(item["party_parent"], int) else item["party_parent"]}
            for _row, item in plan.rows
        ])

    def create_many(self, prepared):
        return organisations_create_many(actor=self.user, rows=prepared)


class _PersonRows(_Rows):
    FIELD_COLUMNS = {"name": "name", "home_area": "home_area_code", "phone": "phone", "id_number": "id_number",
                     "work_unit": "work_unit", "is_party_member": "is_party_member",
                     "party_branch": "party_branch"}

    def __init__(self, job, kind):
        super().__init__(job, kind)
        self.areas = self.load_areas(levels=PERSON_AREA_LEVELS)
        self.units = self.organisations_by_name(party_only=False)
        self.branches = self.organisations_by_name(party_only=True)
        self.id_rows: dict[str, int] = {}

    def check_row(self, row, raw):
        name = self.required_text(row, raw, "name", 64)
        self.not_example(row, name)
        area = self.area(row, raw, "home_area_code", self.areas, level_hint=_("（须是社区或网格）"))
        phone = _text(raw.get("phone"))
        if phone:
            try:
                phone = validate_mobile_phone(phone)
            except ValidationError as exc:
                self.error(row, "phone", " ".join(exc.messages))
        id_number = _text(raw.get("id_number"))
        numeric_id = isinstance(raw.get("id_number"), int | float)
        id_index = ""
        if id_number:
            try:
                id_number = validate_id_number(id_number)
            except ValidationError as exc:
                message = " ".join(exc.messages)
                if numeric_id:
                    message += _("（此单元格是数字格式，Excel 会丢失 15 位以后的数字，请改为文本格式后重新填写。）")
                self.error(row, "id_number", message)
            else:
                id_index = blind_index("id_number", id_number)
                if id_index in self.id_rows:
                    self.error(row, "id_number", _("与第 %(row)s 行的身份证号重复。") % {"row": self.id_rows[id_index]})
                else:
                    self.id_rows[id_index] = row
        unit_name = _text(raw.get("work_unit"))
        unit = None
        if unit_name:
            unit = self.one_by_name(row, "work_unit", unit_name, self.units,
                                    _("未找到工作单位“%(name)s”：须是您管辖范围内已登记的组织。"))
        member_text = _text(raw.get("is_party_member")).lower()
        is_member = False
        if member_text in YES_WORDS:
            is_member = True
        elif member_text not in NO_WORDS:
            self.error(row, "is_party_member", _("请填写“是”或“否”。"))
        branch_name = _text(raw.get("party_branch"))
        branch = None
        if branch_name:
            if not is_member:
                self.error(row, "party_branch", _("只有党员才填写所在党组织（“是否党员”应为“是”）。"))
            else:
                branch = self.one_by_name(row, "party_branch", branch_name, self.branches,
                                          _("未找到党组织“%(name)s”：须是您管辖范围内已登记的党组织。"))
        return {"name": name, "home_area": area, "phone": phone, "id_number": id_number, "id_index": id_index,
                "work_unit": unit, "is_party_member": is_member, "party_branch": branch}

    def check_all(self, plan):
        # ID numbers are unique across the whole platform (database constraint), so the check looks at
        # every person, not only the importer's; the message says nothing about where the number is.
        by_index = {item["id_index"]: row for row, item in plan.rows if item["id_index"]}
        indexes = list(by_index)
        for start in range(0, len(indexes), 500):
            chunk = indexes[start:start + 500]
            # exclude(""): repeats the partial unique index's condition so SQLite can use that index.
            taken = Person.objects.unscoped().filter(id_number_index__in=chunk).exclude(id_number_index="")
            for index in taken.values_list("id_number_index", flat=True):
                self.error(by_index[index], "id_number", _("该身份证号已登记，不能重复导入。"))

    def prepare(self, plan):
        return people_prepare_many(actor=self.user, rows=[
            {"name": item["name"], "home_area": item["home_area"], "phone": item["phone"],
             "id_number": item["id_number"], "work_unit": item["work_unit"],
             "is_party_member": item["is_party_member"], "party_branch": item["party_branch"]}
            for _row, item in plan.rows
        ])

    def create_many(self, prepared):
        return people_create_many(actor=self.user, rows=prepared)
