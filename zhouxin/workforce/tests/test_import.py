"""The roster xlsx import: a good file registers everyone; any bad row imports nothing and says which row."""

import io

from django.urls import reverse
from openpyxl import load_workbook

from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.models import Person
from zhouxin.workforce.models import PostHolding, Worker

from .roster_helpers import workbook

A = "110101001001"  # 多福巷社区
A2 = "110101001002"  # 银闸社区
B = "110101002001"  # 吉祥社区 (another street)


def _body(response) -> str:
    return response.content.decode()


def test_the_template_has_the_header_row(personas, client_for):
    response = client_for("street_hub").get(reverse("workforce:roster_template"))
    assert response.status_code == 200 and "attachment" in response["Content-Disposition"]
    ws = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in ws[1]] == ["姓名", "手机号", "身份证号", "社区代码", "入职日期", "学历", "有学历证书",
                                        "有学位证书", "社工证", "岗位类别", "职务", "任职日期"]


def test_a_good_file_registers_every_worker_and_post(personas, client_for):
    upload = workbook([
        ["王晓燕", "13912345678", "110101199003070011", A, "2019-05-06", "本科", "是", "是", "社会工作师", "正职",
         "书记、主任", "2021-01-01"],
        ["李强", None, None, A2, "2022/3/1", None, None, "否", None, "专职", "网格员", None],
        # An ID number already registered: the existing person becomes the worker.
        ["吴桂兰", None, "11010119800101007X", A, "2020-01-01", "大专", None, None, None, None, None, None],
    ])
    response = client_for("street_hub").post(reverse("workforce:roster_import"), {"file": upload}, follow=True)
    assert "已导入 3 名社区工作者。" in _body(response)
    with scopes_disabled():
        assert Worker.objects.unscoped().count() == 3
        wang = Worker.objects.unscoped().get(person__name="王晓燕")
        assert wang.education == "本科" and wang.certificate == "社会工作师"
        assert PostHolding.objects.unscoped().get(worker=wang).title == "书记、主任"
        li = Worker.objects.unscoped().get(person__name="李强")
        assert not li.has_degree and li.community.code == A2
        assert PostHolding.objects.unscoped().get(worker=li).started_on.isoformat() == "2022-03-01"
        assert Worker.objects.unscoped().get(person__name="吴桂兰").person == personas.people["resident_a"]


def test_a_file_with_errors_imports_nothing_and_names_the_rows(personas, client_for):
    with scopes_disabled():
        people = Person.objects.unscoped().count()
    upload = workbook([
        ["王晓燕", "13912345678", None, A, "2019-05-06", "本科", "是", "是", None, "正职", "书记", "2021-01-01"],
        ["李强", "123", None, A, "2019-05-06", None, None, None, None, None, None, None],
        ["赵敏", None, None, "110101001999", "2019-05-06", None, None, None, None, None, None, None],
        ["钱七", None, None, B, "2019-05-06", None, None, None, None, None, None, None],
        ["孙八", None, None, A, "明年", None, "也许", None, None, "岗位", "主任", None],
    ])
    response = client_for("street_hub").post(reverse("workforce:roster_import"), {"file": upload})
    page = _body(response)
    assert response.status_code == 200 and "未导入任何数据" in page
    assert "第 2 行" not in page  # the good row is not blamed
    assert "第 3 行：" in page and "手机号" in page
    assert "第 4 行：社区代码“110101001999”不存在。" in page
    assert "第 5 行：您没有在“吉祥社区”登记社区工作者的权限。" in page
    assert "第 6 行：" in page and "入职日期“明年”不是有效日期。" in page and "岗位类别“岗位”无效" in page
    with scopes_disabled():
        assert not Worker.objects.unscoped().exists() and not PostHolding.objects.unscoped().exists()
        assert Person.objects.unscoped().count() == people


def test_a_wrong_file_says_so(personas, client_for):
    hub = client_for("street_hub")
    bad = io.BytesIO(b"not a spreadsheet")
    bad.name = "roster.xlsx"
    page = _body(hub.post(reverse("workforce:roster_import"), {"file": bad}))
    assert "这不是有效的 Excel（.xlsx）文件" in page
    page = _body(hub.post(reverse("workforce:roster_import"), {"file": workbook([["张三"]], header=["名字"])}))
    assert "表头与“社区工作者”导入模板不符" in page
