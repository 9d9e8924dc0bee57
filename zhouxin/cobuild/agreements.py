"""The co-building agreement (共建协议) of a project and its signed copy.

Rules and where they come from (DESIGN §3 cobuild "Projects: parties, co-building agreement",
issue 6 item 5):
* the agreement is generated from the project's data: its parties (the community's or street's
  Party organisation and the resident units), the need, the resources and the quantity
  committed, the budget, the dates, the milestones and the project's content, with the
  standard clauses of a 区域化党建共建协议 and a signature block for every party;
* it is issued by staff holding "cobuild.confirm" on the project's area (the street or
  community that confirmed the claim);
* its number, e.g. 东华门街道共建〔2026〕第0003号, is drawn once, at the first issue, from a
  sequence per street and year (an atomic counter row, dispatch/numbering.py, so two streets'
  clerks issuing at the same moment never draw the same number); a re-issue keeps it;
* the PDF is stored with its SHA-256, so the signed copy can be compared with what was issued;
  re-issuing (after the data changed) is allowed until a signed copy has been uploaded, and
  refused afterwards: what was signed is the agreement;
* the signed copy is a scanned PDF or a photo (JPEG, PNG, WebP), judged by its content, never by
  its name: a PDF starts with ``%PDF-`` and ends with ``%%EOF``; an image is read by the request
  attachments' checks (dispatch/attachments.py).  A file carrying HTML or script (a polyglot),
  a PDF with JavaScript, launch actions or embedded files, and anything over 10 MB is refused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhouxin.core import audit
from zhouxin.core.pdf import Document, rmb_upper
from zhouxin.dispatch import attachments, numbering

from .models import Claim, Milestone, Project, Resource
from .services import staff_can

SIGNED_MAX_BYTES = 10 * 1024 * 1024
PDF = attachments.PDF
SIGNED_TYPES = attachments.DOCUMENT_EXTENSIONS
PARTY_LABELS = ("甲方", "乙方", "丙方", "丁方", "戊方", "己方", "庚方", "辛方")


# --- Who may act -----------------------------------------------------------------------------

def can_issue(actor, project: Project) -> bool:
    return staff_can(actor, "cobuild.confirm", project.area.code)


def _ensure_can_issue(actor, project: Project) -> None:
    if not can_issue(actor, project):
        raise PermissionDenied(_("只有项目所在社区或街道的工作人员可以生成共建协议或上传签署文本。"))


def _locked(project: Project) -> Project:
    """The project's current row, locked until the transaction ends (PostgreSQL; SQLite
    serialises writers anyway)."""
    return Project.objects.unscoped().select_for_update().select_related("area").get(pk=project.pk)


# --- The agreement's data ----------------------------------------------------------------------

def _street(project: Project):
    """The street the project's area lies in (itself when it is a street); None above streets."""
    from zhouxin.orgs.models import Area

    code = project.area.code
    if len(code) < 9:
        return None
    return Area.objects.unscoped().filter(code=code[:9]).first()


def _parties(project: Project):
    """(hosts, units): the community's or street's Party organisations, then the units that bring
    resources (the claiming unit and the resources' owners), each in a stable order."""
    from zhouxin.orgs.models import Organisation

    parties = list(Organisation.objects.unscoped().filter(cobuild_projects=project).order_by("id"))
    unit_ids = set(Resource.objects.unscoped().filter(projects=project).values_list("owner_id", flat=True))
    if project.claim_id:
        unit_ids.add(Claim.objects.unscoped().filter(pk=project.claim_id).values_list("unit_id", flat=True).get())
    hosts = [p for p in parties if p.pk not in unit_ids]
    units = [p for p in parties if p.pk in unit_ids]
    return hosts, units


def _date(value: dt.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else "—"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}"


def agreement_pdf(project: Project, *, number: str, issued_at: dt.datetime) -> bytes:
    """The agreement of `project` as PDF bytes.  Deterministic: the same data, number and issue
    time give the same bytes (the issue time is the document's creation date)."""
    from zhouxin.orgs.models import Area

    hosts, units = _parties(project)
    area = Area.objects.unscoped().get(pk=project.area_id)
    host_names = [h.name for h in hosts] or [_("%(area)s党组织") % {"area": area.name}]
    labelled = list(zip(PARTY_LABELS, [*host_names, *[u.name for u in units]], strict=False))
    host_labels = "、".join(label for label, _name in labelled[:len(host_names)])
    unit_labels = "、".join(label for label, _name in labelled[len(host_names):])
    claim = Claim.objects.unscoped().filter(pk=project.claim_id).select_related("resource").first() \
        if project.claim_id else None
    need = project.need
    resources = list(Resource.objects.unscoped().filter(projects=project).select_related("owner").order_by("id"))
    milestones = list(Milestone.objects.filter(project=project).order_by("due_on", "id"))
    local_issue = timezone.localtime(issued_at)

    doc = Document(title=_("区域化党建共建协议"), subtitle=number, creation_date=issued_at,
                   subject=project.title, keywords=(_("共建协议"), number), footer_note=number)
    doc.key_values([
        (_("协议编号"), number),
        (_("项目名称"), project.title),
        (_("实施区域"), area.name),
        *[(label, name) for label, name in labelled],
        (_("生成日期"), _date(local_issue.date())),
    ])
    doc.paragraph(_("为深入推进区域化党建工作，坚持党建引领、共驻共建、资源共享、优势互补、互惠互利，"
                    "经各方协商一致，就“%(title)s”共建项目签订本协议。") % {"title": project.title})

    doc.heading(_("一、共建内容"))
    lines = [_("（一）项目名称：%(title)s；实施区域：%(area)s。") % {"title": project.title, "area": area.name}]
    if need is not None:
        need_text = need.title + (f"：{need.description}" if need.description else "")
        lines.append(_("（二）社区需求：%(need)s") % {"need": need_text})
        if need.beneficiaries or need.beneficiary_count:
            lines.append(_("服务对象：%(who)s%(count)s。") % {
                "who": need.beneficiaries or _("社区居民"),
                "count": _("，约 %(n)d 人") % {"n": need.beneficiary_count} if need.beneficiary_count else ""})
    lines.append(_("（三）项目内容：%(summary)s") % {"summary": project.summary.strip() or _("按照社区需求和投入资源组织实施。")})
    doc.paragraph("\n".join(lines))

    doc.heading(_("二、各方职责"))
    doc.paragraph(_("（一）%(hosts)s（社区或街道党组织）：") % {"hosts": host_labels}, indent=False)
    doc.items([
        _("1. 梳理并发布社区需求，组织动员居民参与，协调提供项目实施所需的场地和便利条件；"),
        _("2. 指定联络人，与共建单位建立常态化沟通机制，协调解决项目实施中的问题；"),
        _("3. 跟踪项目实施，登记服务记录和佐证材料，组织服务对象和居民评价。"),
    ])
    if unit_labels:
        doc.paragraph(_("（二）%(units)s（共建单位）：") % {"units": unit_labels}, indent=False)
        doc.items([
            _("1. 按照本协议约定的内容、数量和期限投入资源，组织党员、职工参与服务；"),
            _("2. 指定联络人，按项目节点推进实施，及时通报进展和困难；"),
            _("3. 遵守社区管理规定，依法保护服务对象的个人信息，不得用于本项目以外的用途。"),
        ])

    doc.heading(_("三、经费与资源"))
    if project.budget > 0:
        doc.paragraph(_("（一）项目预算：人民币%(upper)s（￥%(amount)s元）。经费按照有关财务管理规定使用，专款专用，"
                        "接受各方和居民监督。") % {"upper": rmb_upper(project.budget), "amount": _money(project.budget)})
    else:
        doc.paragraph(_("（一）本项目不安排资金预算，以共建单位投入的资源为主。"))
    if resources:
        doc.paragraph(_("（二）投入资源如下："))
        committed = {claim.resource_id: claim.quantity} if claim else {}
        doc.table([_("资源名称"), _("提供单位"), _("类型"), _("承诺数量")], [
            [r.title, r.owner.name, r.get_kind_display(),
             f"{committed[r.pk]} {r.capacity_unit}" if r.pk in committed else "—"] for r in resources],
            col_widths=(4, 4, 2, 2), align=("L", "L", "C", "R"))
    elif claim is not None:
        doc.paragraph(_("（二）承诺数量：%(n)d。") % {"n": claim.quantity})

    doc.heading(_("四、期限"))
    doc.paragraph(_("项目期限自%(start)s起至%(end)s止。期满后经各方协商一致，可以续签。") % {
        "start": _date(project.starts_on) if project.starts_on else _("本协议生效之日"),
        "end": _date(project.ends_on) if project.ends_on else _("项目完成之日")})
    if milestones:
        doc.paragraph(_("项目实施节点如下："))
        doc.table([_("序号"), _("节点名称"), _("计划完成日期")],
                  [[str(i), m.title, m.due_on.isoformat()] for i, m in enumerate(milestones, start=1)],
                  col_widths=(1, 6, 3), align=("C", "L", "C"))

    doc.heading(_("五、评价与公开"))
    doc.paragraph(_("项目实施情况按节点登记服务记录和佐证材料。项目完成后，由服务对象和居民对项目进行评价，"
                    "评价结果纳入共建单位的共建记录，作为年度区域化党建工作考核和评先评优的参考。"
                    "项目内容、进展和评价结果按规定在社区公开，公开内容不含居民个人信息。"))

    doc.heading(_("六、其他"))
    doc.paragraph("\n".join([
        _("（一）本协议未尽事宜，由各方协商解决。"),
        _("（二）本协议一式%(n)d份，各方各执一份，具有同等效力。") % {"n": max(len(labelled), 1)},
        _("（三）本协议自各方签字盖章之日起生效。"),
    ]))
    doc.spacer(6)
    doc.signatures([(f"{label}：{name}", [_("（盖章）"), _("代表（签字）："), _("日期：　　　　年　　月　　日")])
                    for label, name in labelled])
    return doc.output()


def _number(project: Project, issued_at: dt.datetime) -> str:
    """The next number of the project's street for the issue year: <street>共建〔<year>〕第<nnnn>号."""
    street = _street(project)
    code = street.code if street else project.area.code
    name = street.name if street else project.area.name
    year = timezone.localtime(issued_at).year
    sequence = numbering.next_value(f"A{code}", dt.date(year, 1, 1))
    return f"{name}共建〔{year}〕第{sequence:04d}号"


@transaction.atomic
def agreement_issue(*, actor, project: Project) -> Project:
    """Generate (or re-generate) the project's co-building agreement and keep it as issued."""
    current = _locked(project)
    _ensure_can_issue(actor, current)
    if current.signed_copy:
        raise ValidationError({"agreement": [_("已上传各方签署的协议文本，协议不能再重新生成。")]})
    now = timezone.now()
    before = {"number": current.agreement_number, "sha256": current.agreement_sha256,
              "issued_at": current.agreement_issued_at}
    number = current.agreement_number or _number(current, now)
    data = agreement_pdf(current, number=number, issued_at=now)
    digest = hashlib.sha256(data).hexdigest()
    old_name = current.agreement_file.name if current.agreement_file else ""
    current.agreement_file.save(f"agreement-{current.pk}-{uuid.uuid4().hex[:12]}.pdf", ContentFile(data),
                                save=False)
    new_name = current.agreement_file.name
    current.agreement_number = number
    current.agreement_sha256 = digest
    current.agreement_issued_at = now
    try:
        current.save(update_fields=["agreement_number", "agreement_file", "agreement_sha256", "agreement_issued_at"])
        audit.record(actor=actor, action="cobuild.agreement.reissued" if old_name else "cobuild.agreement.issued",
                     obj=current, before=before,
                     after={"number": number, "sha256": digest, "issued_at": now, "size": len(data)})
    except Exception:
        current.agreement_file.storage.delete(new_name)  # no file without its row
        raise
    if old_name:  # the superseded PDF; its digest stays in the audit trail
        storage = current.agreement_file.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    _refresh(project, current)
    return project


def _refresh(project: Project, current: Project) -> None:
    for field in ("agreement_number", "agreement_file", "agreement_sha256", "agreement_issued_at", "signed_copy",
                  "signed_copy_sha256", "signed_uploaded_at", "signed_uploaded_by_id"):
        setattr(project, field, getattr(current, field))


# --- The signed copy -------------------------------------------------------------------------

def check_signed_copy(upload) -> tuple[str, str, bytes]:
    """(original name, content type, bytes) of an acceptable signed copy (a scanned PDF or a
    photo, judged by content: dispatch.attachments.check_document), or a ValidationError."""
    checked = attachments.check_document(upload, limit=SIGNED_MAX_BYTES, default_name="signed",
                                         missing=_("请选择签署后的协议扫描件（PDF 或图片）。"))
    return checked.original_name, checked.content_type, checked.data


def signed_content_type(project: Project) -> str:
    """The stored signed copy's type, by the extension we gave it from its content at upload."""
    extension = project.signed_copy.name.rsplit(".", 1)[-1].lower()
    return next((kind for kind, ext in SIGNED_TYPES.items() if ext == extension), "application/octet-stream")


@transaction.atomic
def signed_copy_upload(*, actor, project: Project, upload) -> Project:
    """Keep the scanned copy signed and sealed by every party.  Only once an agreement was issued;
    a new upload replaces an earlier one (a better scan), each recorded with its digest."""
    current = _locked(project)
    _ensure_can_issue(actor, current)
    if not current.agreement_number or not current.agreement_file:
        raise ValidationError({"upload": [_("请先生成共建协议，再上传签署文本。")]})
    name, kind, data = check_signed_copy(upload)
    digest = hashlib.sha256(data).hexdigest()
    now = timezone.now()
    before = {"sha256": current.signed_copy_sha256, "uploaded_at": current.signed_uploaded_at}
    old_name = current.signed_copy.name if current.signed_copy else ""
    current.signed_copy.save(f"signed-{current.pk}-{uuid.uuid4().hex}.{SIGNED_TYPES[kind]}", ContentFile(data),
                             save=False)
    new_name = current.signed_copy.name
    current.signed_copy_sha256 = digest
    current.signed_uploaded_at = now
    current.signed_uploaded_by = actor
    try:
        current.save(update_fields=["signed_copy", "signed_copy_sha256", "signed_uploaded_at", "signed_uploaded_by"])
        audit.record(actor=actor, action="cobuild.agreement.signed_uploaded", obj=current, before=before, after={
            "number": current.agreement_number, "name": name, "content_type": kind, "size": len(data),
            "sha256": digest, "agreement_sha256": current.agreement_sha256})
    except Exception:
        current.signed_copy.storage.delete(new_name)
        raise
    if old_name:
        storage = current.signed_copy.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    _refresh(project, current)
    return project


# --- The project page's panel ----------------------------------------------------------------

def panel_context(user, project: Project) -> dict:
    """Context of the agreement panel (templates/cobuild/project/_agreement.html)."""
    may_issue = can_issue(user, project)
    return {"agreement": {
        "number": project.agreement_number,
        "issued": bool(project.agreement_file),
        "issued_at": project.agreement_issued_at,
        "sha256": project.agreement_sha256,
        "signed": bool(project.signed_copy),
        "signed_at": project.signed_uploaded_at,
        "signed_sha256": project.signed_copy_sha256,
        "can_issue": may_issue and not project.signed_copy,
        "can_upload": may_issue and bool(project.agreement_file),
    }}
