"""xlsx export of people and organisations (DESIGN §4: exports respect scope and masking).

The rows are the list pages' rows (selectors.people / selectors.organisations with
the same filters), further limited to the subtrees of the grants whose role may
export, so a grid worker's or another role's reach never widens an export.
Phone and ID numbers leave the system masked only.  Each export is audited with
its filters and row count.  The workbook is written in openpyxl's write-only mode
into a temporary file, so memory stays flat however many rows there are.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import IO

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.permissions import ensure_can, roles_for
from zhouxin.core.scoping import scope_for_user

from . import selectors
from .choices import OrgKind
from .models import Area, Sector

PEOPLE_HEADERS = ("姓名", "居住区域代码", "居住区域", "手机号（脱敏）", "身份证号（脱敏）", "工作单位", "是否党员", "所在党组织")
ORGANISATION_HEADERS = ("名称", "组织类型", "所在区域代码", "所在区域", "上级党组织", "行业系统", "统一社会信用代码", "地址",
                        "办公电话", "党员人数")


@dataclass
class Export:
    file: IO[bytes]
    filename: str
    rows: int


def _export_scope_q(user, field: str) -> Q:
    prefixes = scope_for_user(user).prefixes(roles_for("orgs.export"))
    if not prefixes:
        return Q(pk__in=[])
    return reduce(or_, [Q(**{f"{field}__startswith": p}) for p in prefixes])


def _workbook(title: str, headers: tuple[str, ...]):
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    return wb, ws


def _save(wb) -> IO[bytes]:
    # Handed to FileResponse, which closes it once the download has been sent.
    out = tempfile.TemporaryFile()  # noqa: SIM115
    wb.save(out)
    out.seek(0)
    return out


def _filename(label: str) -> str:
    return f"{label}-{timezone.localtime():%Y%m%d-%H%M}.xlsx"


def _record(actor, action: str, object_type: str, filters: dict, rows: int) -> None:
    with transaction.atomic():
        audit.record(actor=actor, action=action, object_type=object_type,
                     object_repr=_("导出 %(n)s 行") % {"n": rows}, after={"filters": filters, "rows": rows})


def people_export(*, actor, area: Area | None = None, q: str = "") -> Export:
    """People in the actor's export scope matching the list filters, phone and ID number masked."""
    ensure_can(actor, "orgs.export", area.code if area is not None else None)
    queryset = (
        selectors.people(area=area, q=q)
        .filter(_export_scope_q(actor, "home_area__code"))
        .select_related("home_area", "work_unit", "party_branch")
    )
    wb, ws = _workbook("人员", PEOPLE_HEADERS)
    yes, no = _("是"), _("否")
    count = 0
    for person in queryset.iterator(chunk_size=2000):
        ws.append([
            person.name, person.home_area.code, person.home_area.name, person.phone_masked,
            person.id_number_masked, person.work_unit.name if person.work_unit else "",
            yes if person.is_party_member else no, person.party_branch.name if person.party_branch else "",
        ])
        count += 1
    file = _save(wb)
    _record(actor, "orgs.export.people", "orgs.person",
            {"area": area.code if area is not None else "", "q": q}, count)
    return Export(file, _filename(_("人员")), count)


def organisations_export(*, actor, area: Area | None = None, kind: str = "", sector: Sector | None = None,
                         q: str = "") -> Export:
    """Organisations in the actor's export scope matching the list filters."""
    ensure_can(actor, "orgs.export", area.code if area is not None else None)
    queryset = (
        selectors.organisations(area=area, kind=kind, sector_id=sector.pk if sector else None, q=q)
        .filter(_export_scope_q(actor, "area__code"))
    )
    wb, ws = _workbook("组织", ORGANISATION_HEADERS)
    kinds = dict(OrgKind.choices)
    count = 0
    for org in queryset.iterator(chunk_size=2000):
        ws.append([
            org.name, str(kinds.get(org.kind, org.kind)), org.area.code, org.area.name,
            org.party_parent.name if org.party_parent else "", org.sector.name if org.sector else "",
            org.credit_code, org.address, org.contact_phone, org.member_count,
        ])
        count += 1
    file = _save(wb)
    _record(actor, "orgs.export.organisations", "orgs.organisation",
            {"area": area.code if area is not None else "", "kind": kind, "sector": sector.code if sector else "",
             "q": q}, count)
    return Export(file, _filename(_("组织")), count)


