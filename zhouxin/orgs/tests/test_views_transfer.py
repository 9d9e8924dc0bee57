"""Import and export pages: upload, job page and its progress fragment, template, scoped and masked exports."""

from __future__ import annotations

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from zhouxin.core.choices import JobStatus
from zhouxin.core.models import AuditEntry, ImportJob
from zhouxin.orgs.models import Organisation

from .test_imports import DUOFU, JIXIANG, ORG_HEADERS, PERSON_HEADERS, run_worker, xlsx_bytes

pytestmark = pytest.mark.django_db(transaction=True)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Unmasked mainland mobile numbers and ID numbers.
PLAIN_PHONE = re.compile(r"1[3-9]\d{9}")
PLAIN_ID = re.compile(r"\d{17}[\dX]")


def upload(client, content: bytes, *, kind="organisations", area="110101001", name="组织.xlsx"):
    return client.post(reverse("orgs:import"), {
        "kind": kind, "area": area, "file": SimpleUploadedFile(name, content, content_type=XLSX)})


def test_import_page_offers_templates_and_the_users_areas(client_for):
    response = client_for("street_hub").get(reverse("orgs:import"))
    assert response.status_code == 200
    body = response.content.decode()
    assert reverse("orgs:import_template", args=["organisations"]) in body
    assert reverse("orgs:import_template", args=["people"]) in body
    assert "东华门街道" in body and "多福巷社区" in body
    assert "20,000 行" in body
    assert "吉祥社区" not in body  # another street's community is not offered


def test_upload_runs_as_a_job_and_the_page_follows_it(client_for, personas):
    client = client_for("street_hub")
    rows = [["多福巷社区第八党支部", "党支部", DUOFU, "中共多福巷社区委员会", "", "", "", "", 12]]
    response = upload(client, xlsx_bytes(ORG_HEADERS, rows))
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("orgs:import_job", args=[job.pk])
    assert (job.status, job.total, job.scope_area.code, job.created_by) == (
        JobStatus.PENDING, 1, "110101001", personas.street_hub)

    # Before the worker runs: the page polls the progress fragment, which keeps polling (200).
    page = client.get(reverse("orgs:import_job", args=[job.pk])).content.decode()
    progress_url = reverse("orgs:import_job_progress", args=[job.pk])
    assert f'hx-get="{progress_url}"' in page and 'hx-trigger="every 1s"' in page
    assert "排队中" in page
    fragment = client.get(progress_url)
    assert fragment.status_code == 200 and 'data-zx-percent="0"' in fragment.content.decode()

    run_worker()

    # Finished: 286 tells htmx to stop polling; the result replaces the bar.
    fragment = client.get(progress_url)
    assert fragment.status_code == 286
    text = fragment.content.decode()
    assert 'data-zx-percent="100"' in text and "已导入 1 条组织记录" in text
    page = client.get(reverse("orgs:import_job", args=[job.pk])).content.decode()
    assert "hx-trigger" not in page and "导入完成" in page
    assert Organisation.objects.unscoped().filter(name="多福巷社区第八党支部").exists()


def test_failed_job_page_lists_each_row_error(client_for):
    client = client_for("street_hub")
    rows = [
        ["多福巷社区第九党支部", "党支部", DUOFU, "", "", "", "", "", ""],
        ["吉祥社区第九党支部", "党支部", JIXIANG, "", "", "", "", "", ""],
    ]
    upload(client, xlsx_bytes(ORG_HEADERS, rows))
    job = ImportJob.objects.get()
    run_worker()
    response = client.get(reverse("orgs:import_job_progress", args=[job.pk]))
    assert response.status_code == 286
    body = response.content.decode()
    assert "发现 1 处错误，没有导入任何数据" in body
    assert "第 3 行" in body and "所在区域代码" in body and JIXIANG in body
    assert not Organisation.objects.unscoped().filter(name="多福巷社区第九党支部").exists()


@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"just some text", "组织.xlsx", "这不是有效的 Excel（.xlsx）文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "组织.xls", "旧版 Excel（.xls）"),
        (xlsx_bytes(PERSON_HEADERS, [["张三", DUOFU]]), "人员.xlsx", "表头与“组织”导入模板不符"),
        (xlsx_bytes(ORG_HEADERS, []), "空.xlsx", "文件中没有数据行"),
    ],
)
def test_bad_uploads_get_a_clear_message_and_create_no_job(client_for, content, name, message):
    response = upload(client_for("street_hub"), content, name=name)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_oversized_upload_is_refused(client_for):
    response = upload(client_for("street_hub"), b"PK\x03\x04" + b"\0" * (5 * 1024 * 1024 + 1))
    assert response.status_code == 200
    assert "文件超过 5 MB" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_missing_fields_are_explained(client_for):
    response = client_for("street_hub").post(reverse("orgs:import"), {"kind": "organisations", "area": "110101001"})
    assert response.status_code == 200
    assert "请选择要上传的 Excel 文件" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_job_is_visible_to_its_creator_and_to_importers_above(client_for, personas):
    job = ImportJob.objects.create(kind="people", filename="人员名单.xlsx", content=b"", total=1,
                                   scope_area=personas.areas["community_a"], created_by=personas.community_staff)
    url = reverse("orgs:import_job", args=[job.pk])
    assert client_for("community_staff").get(url).status_code == 200
    # The street hub's and the district admin's grants cover 多福巷社区.
    assert client_for("street_hub").get(url).status_code == 200
    assert client_for("district_admin").get(url).status_code == 200
    for outsider in ("community_staff_b", "outsider", "grid_worker"):
        assert client_for(outsider).get(url).status_code == 404


def test_template_download(client_for):
    response = client_for("community_staff").get(reverse("orgs:import_template", args=["people"]))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    assert "attachment" in response["Content-Disposition"]
    wb = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in wb.worksheets[0][1]] == PERSON_HEADERS
    # Only 多福巷社区 (and its grid) can be chosen by its community staff.
    codes = [row[0] for row in wb["区域代码"].iter_rows(min_row=2, values_only=True)]
    assert codes == ["110101001001", "110101001001001"]
    assert client_for("community_staff").get(
        reverse("orgs:import_template", args=["nonsense"])).status_code == 404


# --- exports -------------------------------------------------------------------------

def sheet_rows(response) -> list[tuple]:
    content = b"".join(response.streaming_content)
    wb = load_workbook(io.BytesIO(content), read_only=True)
    return list(wb.worksheets[0].iter_rows(values_only=True))


def all_text(rows: list[tuple]) -> str:
    return "\n".join("\t".join("" if v is None else str(v) for v in row) for row in rows)


def test_people_export_by_community_staff_contains_only_their_community_masked(client_for, personas):
    response = client_for("community_staff").get(reverse("orgs:export_people"))
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    rows = sheet_rows(response)
    assert rows[0][:5] == ("姓名", "居住区域代码", "居住区域", "手机号（脱敏）", "身份证号（脱敏）")
    names = sorted(r[0] for r in rows[1:])
    assert names == ["吴桂兰", "周海燕"]
    text = all_text(rows)
    assert "马玉芬" not in text and "吉祥社区" not in text and "高志远" not in text
    assert not PLAIN_PHONE.search(text) and not PLAIN_ID.search(text)
    wu = next(r for r in rows if r[0] == "吴桂兰")
    assert (wu[3], wu[4]) == ("138****1234", "110***********007X")
    entry = AuditEntry.objects.get(action="orgs.export.people")
    assert entry.actor == personas.community_staff
    assert entry.after == {"filters": {"area": "", "q": ""}, "rows": 2}


def test_organisations_export_is_scoped_and_audited(client_for, personas):
    response = client_for("community_staff").get(reverse("orgs:export_organisations"))
    rows = sheet_rows(response)
    names = {r[0] for r in rows[1:]}
    assert names == {"中共多福巷社区委员会", "北京市东城区第一人民医院", "东城区第一人民医院党支部"}
    assert "吉祥社区" not in all_text(rows)
    entry = AuditEntry.objects.get(action="orgs.export.organisations")
    assert entry.after["rows"] == 3


def test_export_filters_like_the_lists(client_for):
    client = client_for("district_admin")
    rows = sheet_rows(client.get(reverse("orgs:export_people"), {"area": "110101002"}))
    assert [r[0] for r in rows[1:]] == ["马玉芬"]
    rows = sheet_rows(client.get(reverse("orgs:export_people"), {"q": "桂兰"}))
    assert [r[0] for r in rows[1:]] == ["吴桂兰"]
    rows = sheet_rows(client.get(reverse("orgs:export_organisations"), {"kind": "working_committee"}))
    assert sorted(r[0] for r in rows[1:]) == ["中共东华门街道工作委员会", "中共景山街道工作委员会"]
    # The whole district, but nothing of 西城区.
    text = all_text(sheet_rows(client.get(reverse("orgs:export_people"))))
    assert "马玉芬" in text and "吴桂兰" in text and "高志远" not in text
    assert not PLAIN_PHONE.search(text) and not PLAIN_ID.search(text)


def test_export_with_an_invalid_kind_explains_and_exports_nothing(client_for):
    client = client_for("street_hub")
    response = client.get(reverse("orgs:export_organisations"), {"kind": "bogus"}, follow=True)
    assert response.status_code == 200
    assert "组织类型“bogus”无效" in response.content.decode()
    assert not AuditEntry.objects.filter(action="orgs.export.organisations").exists()


def test_export_query_count_does_not_grow_with_rows(client_for, personas):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from zhouxin.orgs.models import Person

    client = client_for("community_staff")

    # Bookkeeping that runs on a clock, not per row (the session's once-a-minute "last seen"
    # mark, the audit sealer's at-most-every-0.5 s attempt, rate-limit windows), is left out:
    # what must not grow with the rows is the reading of the rows.
    # (the sealer's attempt is its own short transaction around an advisory lock).
    bookkeeping = ("django_session", "core_audit", "core_usersession", "core_ratelimit", "advisory_")
    control = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE SAVEPOINT")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client.get(reverse("orgs:export_people"))
            rows = sheet_rows(response)
        reads = [q["sql"] for q in captured.captured_queries
                 if not any(t in q["sql"] for t in bookkeeping) and not q["sql"].startswith(control)]
        return len(reads), len(rows) - 1

    few, few_rows = queries()
    for n in range(5):
        Person.objects.unscoped().create(name=f"新居民{n}", home_area=personas.areas["community_a"],
                                         work_unit=personas.orgs["unit"], party_branch=personas.orgs["unit_branch"],
                                         is_party_member=True)
    many, many_rows = queries()
    assert (few_rows, many_rows) == (2, 7)
    assert many == few
