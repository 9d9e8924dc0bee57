"""xlsx import: all rows or none, per-row errors, scope, progress; the task run by a real worker."""

from __future__ import annotations

import io
import threading

import pytest
from django.db import connection
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from openpyxl import Workbook, load_workbook

from zhouxin.core.choices import JobStatus
from zhouxin.core.crypto import blind_index
from zhouxin.core.models import AuditEntry, ImportJob
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs import imports
from zhouxin.orgs.choices import OrgKind
from zhouxin.orgs.models import Organisation, Person

pytestmark = pytest.mark.django_db(transaction=True)

ORG_HEADERS = ["名称", "组织类型", "所在区域代码", "上级党组织", "行业系统", "统一社会信用代码", "地址", "办公电话", "党员人数"]
PERSON_HEADERS = ["姓名", "居住区域代码", "手机号", "身份证号", "工作单位", "是否党员", "所在党组织"]
DUOFU = "110101001001"  # 多福巷社区 (东华门街道)
YINZHA = "110101001002"  # 银闸社区 (东华门街道)
JIXIANG = "110101002001"  # 吉祥社区 (景山街道): outside the street hub's street


def xlsx_bytes(headers: list[str], rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def id_number(first17: str) -> str:
    from zhouxin.orgs.validators import id_check_char

    return first17 + id_check_char(first17)


def run_worker() -> None:
    """Process every queued task with django-tasks-db's own worker, then return (batch mode)."""
    Worker(queue_names=["*"], interval=0, batch=True, backend_name="default", startup_delay=False,
           max_tasks=None, worker_id="pytest-worker", excluded_queue_names=[]).run()


def submit(personas, persona: str, kind: str, content: bytes, area_key: str = "street_a") -> ImportJob:
    sheet = imports.read_sheet(imports.kind_for(kind), content)
    return imports.import_job_submit(actor=personas.users[persona], kind=imports.kind_for(kind),
                                     area=personas.areas[area_key], filename="测试.xlsx", content=content,
                                     total=len(sheet.rows))


def org_count() -> int:
    return Organisation.objects.unscoped().count()


def person_count() -> int:
    return Person.objects.unscoped().count()


GOOD_ORGS = [
    ["多福巷社区第二党支部", "党支部", DUOFU, "中共多福巷社区委员会", "", "", "多福巷 12 号", "010-65120001", 23],
    ["银闸社区党委", "党委", YINZHA, "中共东华门街道工作委员会", "", "", "", "", ""],
    ["银闸社区第一党支部", "党支部", YINZHA, "银闸社区党委", "", "", "", "", 15],
    ["东华门物业服务中心", "驻区单位", YINZHA, "", "卫生健康", "91110101MA01ABCD1X", "", "", ""],
]


def test_good_organisation_file_imports_every_row(personas):
    # The credit code of the last row gets a valid check character.
    from zhouxin.orgs.services import credit_code_check_char

    rows = [list(r) for r in GOOD_ORGS]
    rows[3][5] = rows[3][5][:17] + credit_code_check_char(rows[3][5][:17])
    before = org_count()
    job = submit(personas, "street_hub", "organisations", xlsx_bytes(ORG_HEADERS, rows))
    assert job.status == JobStatus.PENDING
    assert DBTaskResult.objects.count() == 1  # enqueued once the job was committed

    run_worker()

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert (job.total, job.processed, job.created_count, job.errors) == (4, 4, 4, [])
    assert org_count() == before + 4
    with scopes_disabled():
        branch = Organisation.objects.get(name="多福巷社区第二党支部")
        assert branch.kind == OrgKind.BRANCH and branch.area.code == DUOFU and branch.member_count == 23
        assert branch.party_parent == personas.orgs["community_a_committee"]
        # A parent defined by an earlier row of the same file.
        assert Organisation.objects.get(name="银闸社区第一党支部").party_parent.name == "银闸社区党委"
        unit = Organisation.objects.get(name="东华门物业服务中心")
        assert unit.sector.name == "卫生健康" and unit.kind == OrgKind.RESIDENT_UNIT
    created = AuditEntry.objects.filter(action="orgs.organisation.created", actor=personas.street_hub)
    assert created.count() == 4
    assert AuditEntry.objects.filter(action="orgs.import.succeeded", object_id=str(job.pk)).exists()
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"


def test_good_people_file_imports_every_row_with_identifiers_encrypted(personas):
    number = id_number("11010119881212002")
    rows = [
        ["赵春燕", DUOFU, "13911112222", number, "北京市东城区第一人民医院", "是", "东城区第一人民医院党支部"],
        ["钱多多", YINZHA, "", "", "", "否", ""],
    ]
    before = person_count()
    job = submit(personas, "street_hub", "people", xlsx_bytes(PERSON_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert job.created_count == 2 and person_count() == before + 2
    with scopes_disabled():
        person = Person.objects.get(id_number_index=blind_index("id_number", number))
        assert person.name == "赵春燕" and person.phone == "13911112222" and person.is_party_member
        assert person.party_branch == personas.orgs["unit_branch"] and person.work_unit == personas.orgs["unit"]
        assert person.home_area.code == DUOFU
    # At rest the numbers are ciphertext.
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM orgs_person WHERE id = %s", [person.pk])
        stored_phone, stored_id = cursor.fetchone()
    assert "13911112222" not in stored_phone and number not in stored_id


def test_one_bad_row_imports_nothing_and_reports_that_row(personas):
    rows = [list(r) for r in GOOD_ORGS[:3]]
    rows.insert(1, ["坏数据党支部", "党小队", DUOFU, "", "", "", "", "", ""])  # sheet row 3: unknown kind
    before_orgs, before_audit = org_count(), AuditEntry.objects.filter(action="orgs.organisation.created").count()
    job = submit(personas, "street_hub", "organisations", xlsx_bytes(ORG_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.created_count == 0 and job.processed == 4
    assert job.errors == [{"row": 3, "column": "组织类型",
                           "message": "“党小队”不是有效的组织类型，应为：党委、党工委、党总支、党支部、党小组、职能部门、"
                                      "驻区单位、社会组织、非公企业、行业党委。"}]
    assert org_count() == before_orgs
    assert AuditEntry.objects.filter(action="orgs.organisation.created").count() == before_audit
    assert AuditEntry.objects.filter(action="orgs.import.failed", object_id=str(job.pk)).exists()


def test_area_outside_the_importers_scope_is_refused(personas):
    rows = [
        ["多福巷社区第三党支部", "党支部", DUOFU, "", "", "", "", "", ""],
        ["吉祥社区第九党支部", "党支部", JIXIANG, "", "", "", "", "", ""],  # 景山街道: not the hub's street
        ["不存在的党支部", "党支部", "110101001999", "", "", "", "", "", ""],  # no such area at all
    ]
    before = org_count()
    job = submit(personas, "street_hub", "organisations", xlsx_bytes(ORG_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "所在区域代码"), (4, "所在区域代码")]
    assert JIXIANG in job.errors[0]["message"] and "东华门街道" in job.errors[0]["message"]
    assert org_count() == before


def test_community_staff_cannot_import_into_a_sibling_community(personas):
    # 张丽华's grant is 多福巷社区; 银闸社区 is in the same street but not hers.
    rows = [["孙一", YINZHA, "", "", "", "否", ""]]
    job = submit(personas, "community_staff", "people", xlsx_bytes(PERSON_HEADERS, rows), area_key="community_a")
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors[0]["row"] == 2 and YINZHA in job.errors[0]["message"]


def test_party_parent_and_work_unit_must_be_in_scope(personas):
    # 中共吉祥社区委员会 exists, but in 景山街道: the street hub of 东华门街道 cannot reference it.
    rows = [["多福巷社区第四党支部", "党支部", DUOFU, "中共吉祥社区委员会", "", "", "", "", ""]]
    job = submit(personas, "street_hub", "organisations", xlsx_bytes(ORG_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.errors[0]["column"] == "上级党组织" and "中共吉祥社区委员会" in job.errors[0]["message"]


def test_person_errors_are_reported_per_row_and_column(personas):
    good = id_number("11010119900101123")
    bad_checksum = good[:17] + ("0" if good[17] != "0" else "1")
    rows = [
        ["甲", DUOFU, "13800001111", good, "", "否", ""],
        ["乙", DUOFU, "1234", "", "", "否", ""],  # row 3: phone
        ["丙", DUOFU, "", bad_checksum, "", "否", ""],  # row 4: checksum
        ["丁", DUOFU, "", good, "", "否", ""],  # row 5: same ID as row 2
        ["戊", DUOFU, "", "11010119800101007X", "", "否", ""],  # row 6: 吴桂兰's number, already registered
        ["", DUOFU, "", "", "", "也许", "中共多福巷社区委员会"],  # row 7: no name, bad yes/no, branch without member
    ]
    before = person_count()
    job = submit(personas, "street_hub", "people", xlsx_bytes(PERSON_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    found = {(e["row"], e["column"]) for e in job.errors}
    assert found == {(3, "手机号"), (4, "身份证号"), (5, "身份证号"), (6, "身份证号"), (7, "姓名"), (7, "是否党员"),
                     (7, "所在党组织")}
    messages = {(e["row"], e["column"]): e["message"] for e in job.errors}
    assert "校验位" in messages[(4, "身份证号")]
    assert "第 2 行" in messages[(5, "身份证号")]
    assert "已登记" in messages[(6, "身份证号")]
    assert person_count() == before


def test_duplicate_organisation_names_in_file_and_in_database(personas):
    rows = [
        ["多福巷社区第五党支部", "党支部", DUOFU, "", "", "", "", "", ""],
        ["多福巷社区第五党支部", "党支部", DUOFU, "", "", "", "", "", ""],
        ["中共多福巷社区委员会", "党委", DUOFU, "", "", "", "", "", ""],  # exists already
    ]
    job = submit(personas, "street_hub", "organisations", xlsx_bytes(ORG_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert [(e["row"], e["column"]) for e in job.errors] == [(3, "名称"), (4, "名称")]
    assert "第 2 行" in job.errors[0]["message"]


def test_progress_is_committed_while_rows_are_validated(personas, monkeypatch):
    """The web process (another connection) sees the count grow before anything is imported."""
    monkeypatch.setattr(imports, "PROGRESS_EVERY", 2)
    rows = [[f"多福巷社区第{n}党小组", "党小组", DUOFU, "中共多福巷社区委员会", "", "", "", "", ""] for n in range(1, 6)]
    before = org_count()
    job = submit(personas, "street_hub", "organisations", xlsx_bytes(ORG_HEADERS, rows))
    seen: list[tuple[int, str, int]] = []
    original = imports._write_progress

    def observed(job_id, processed):
        original(job_id, processed)

        def read():  # a new thread has its own database connection, like the web server
            from django.db import connection as other

            try:
                row = ImportJob.objects.filter(pk=job_id).values_list("processed", "status").get()
                seen.append((*row, Organisation.objects.unscoped().count()))
            finally:
                other.close()

        reader = threading.Thread(target=read)
        reader.start()
        reader.join()

    monkeypatch.setattr(imports, "_write_progress", observed)
    run_worker()
    assert seen == [(2, JobStatus.RUNNING, before), (4, JobStatus.RUNNING, before), (5, JobStatus.RUNNING, before)]
    job.refresh_from_db()
    assert (job.status, job.processed, job.total, job.percent) == (JobStatus.SUCCEEDED, 5, 5, 100)
    assert org_count() == before + 5


def test_an_id_number_registered_by_someone_else_meanwhile_is_reported_on_its_row(personas, monkeypatch):
    """Rows are checked first, written later: what another clerk registered in between is
    refused at the write with that row's number and column, and nothing is imported."""
    from zhouxin.orgs import services

    taken = id_number("11010119900505004")
    rows = [["甲", DUOFU, "", id_number("11010119900505001"), "", "否", ""],
            ["乙", YINZHA, "", taken, "", "否", ""]]
    job = submit(personas, "street_hub", "people", xlsx_bytes(PERSON_HEADERS, rows))
    real = imports.people_create_many

    def someone_else_first(*, actor, rows):
        services.person_create(actor=personas.district_admin, name="丙", home_area=personas.areas["community_a"],
                               id_number=taken)
        return real(actor=actor, rows=rows)

    monkeypatch.setattr(imports, "people_create_many", someone_else_first)
    before = person_count()
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and job.created_count == 0
    assert job.errors == [{"row": 3, "column": "身份证号", "message": "该身份证号已登记。"}]
    assert person_count() == before  # 丙 was written in the import's transaction, so rolled back with it
    assert not AuditEntry.objects.filter(action="orgs.person.created").exists()


def test_every_imported_row_has_its_own_masked_audit_entry(personas):
    numbers = [id_number(f"11010119920202{n:03d}") for n in range(3)]
    rows = [[f"测试{n}", DUOFU, f"1370000000{n}", numbers[n], "", "否", ""] for n in range(3)]
    job = submit(personas, "street_hub", "people", xlsx_bytes(PERSON_HEADERS, rows))
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    entries = AuditEntry.objects.filter(action="orgs.person.created", actor=personas.street_hub).order_by("id")
    assert [e.object_repr for e in entries] == ["测试0", "测试1", "测试2"]
    assert [e.after["phone"] for e in entries] == ["137****0000", "137****0001", "137****0002"]
    assert all(n not in str(e.after) for e in entries for n in numbers)


def test_a_job_runs_once(personas):
    job = submit(personas, "street_hub", "organisations",
                 xlsx_bytes(ORG_HEADERS, [["多福巷社区第六党支部", "党支部", DUOFU, "", "", "", "", "", ""]]))
    run_worker()
    before = org_count()
    # Running it again (a second worker, a retried task) finds it claimed and does nothing.
    assert imports.import_job_execute(job.pk) == JobStatus.SUCCEEDED
    assert org_count() == before


def test_permission_revoked_before_the_task_runs_imports_nothing(personas):
    job = submit(personas, "street_hub", "organisations",
                 xlsx_bytes(ORG_HEADERS, [["多福巷社区第七党支部", "党支部", DUOFU, "", "", "", "", "", ""]]))
    personas.street_hub.grants.update(active=False)
    before = org_count()
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED and "权限" in job.errors[0]["message"]
    assert org_count() == before


# --- the upload itself -------------------------------------------------------------

@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "文件是空的"),
        (b"name,kind\n a,b\n", "不是有效的 Excel"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, ".xls"),
        (b"PK\x03\x04 not really a zip", "不是有效的 Excel"),
    ],
)
def test_files_that_are_not_xlsx_are_refused(content, expected):
    with pytest.raises(imports.ImportFileError) as exc:
        imports.read_sheet(imports.ORG_KIND, content)
    assert expected in exc.value.message


def test_a_zip_that_is_not_a_workbook_is_refused():
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "你好")
    with pytest.raises(imports.ImportFileError, match="不是有效的 Excel"):
        imports.read_sheet(imports.ORG_KIND, out.getvalue())


def test_size_and_row_limits(monkeypatch):
    with pytest.raises(imports.ImportFileError, match="超过 5 MB"):
        imports.read_sheet(imports.ORG_KIND, b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024))
    rows = [[f"党支部{n}", "党支部", DUOFU] for n in range(21)]
    content = xlsx_bytes(ORG_HEADERS[:3], rows)
    monkeypatch.setattr(imports, "MAX_ROWS", 20)
    with pytest.raises(imports.ImportFileError, match="超过 20 行"):
        imports.read_sheet(imports.ORG_KIND, content)
    monkeypatch.setattr(imports, "MAX_ROWS", 21)
    assert len(imports.read_sheet(imports.ORG_KIND, content).rows) == 21


def test_headers_must_match_the_template():
    people = xlsx_bytes(PERSON_HEADERS, [["张三", DUOFU, "", "", "", "", ""]])
    with pytest.raises(imports.ImportFileError) as exc:
        imports.read_sheet(imports.ORG_KIND, people)
    assert "缺少必填列：名称、组织类型、所在区域代码" in exc.value.message
    assert "无法识别的列：姓名" in exc.value.message
    with pytest.raises(imports.ImportFileError, match="没有数据行"):
        imports.read_sheet(imports.ORG_KIND, xlsx_bytes(ORG_HEADERS, []))


def test_blank_rows_are_skipped_and_sheet_row_numbers_kept():
    content = xlsx_bytes(ORG_HEADERS, [["甲", "党支部", DUOFU], [None, "  ", None], ["乙", "党支部", DUOFU]])
    sheet = imports.read_sheet(imports.ORG_KIND, content)
    assert [row for row, _ in sheet.rows] == [2, 4]


# --- the template --------------------------------------------------------------------

def test_template_has_headers_example_lists_and_notes(personas):
    content = imports.template_workbook(imports.ORG_KIND, personas.street_hub)
    wb = load_workbook(io.BytesIO(content))
    assert wb.sheetnames[:2] == ["组织", "填写说明"]
    ws = wb["组织"]
    assert [c.value for c in ws[1]] == ORG_HEADERS
    assert ws["A2"].value.startswith(imports.EXAMPLE_MARKER)
    assert ws["C2"].value == DUOFU  # a community the user may import into
    lists = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
    assert lists["B2:B20001"] == "选项!$A$1:$A$10"
    assert [wb["选项"].cell(row=i, column=1).value for i in range(1, 11)] == [
        "党委", "党工委", "党总支", "党支部", "党小组", "职能部门", "驻区单位", "社会组织", "非公企业", "行业党委"]
    area_codes = [row[0] for row in wb["区域代码"].iter_rows(min_row=2, values_only=True)]
    assert DUOFU in area_codes and JIXIANG not in area_codes  # only the street hub's own street
    notes = [row[0] for row in wb["填写说明"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert notes[:3] == ORG_HEADERS[:3]


def test_filled_in_template_round_trips_and_the_example_row_is_refused(personas):
    wb = load_workbook(io.BytesIO(imports.template_workbook(imports.PERSON_KIND, personas.street_hub)))
    ws = wb["人员"]
    ws.append(["李四", DUOFU, "13700001234", id_number("11010119750505003"), "", "否", ""])
    out = io.BytesIO()
    wb.save(out)
    job = submit(personas, "street_hub", "people", out.getvalue())
    run_worker()
    job.refresh_from_db()
    # The example row was left in: it is refused, so nothing is imported.
    assert job.status == JobStatus.FAILED
    assert job.errors == [{"row": 2, "column": "姓名", "message": "这是模板中的示例行，请删除或改写后再上传。"}]

    ws.delete_rows(2)
    out = io.BytesIO()
    wb.save(out)
    before = person_count()
    job = submit(personas, "street_hub", "people", out.getvalue())
    run_worker()
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.errors
    assert person_count() == before + 1
