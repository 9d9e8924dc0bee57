import csv
import io
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from zhouxin.core.models import AuditEntry
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.divisions import BUNDLED_DIR, DivisionsError, divisions_import
from zhouxin.orgs.models import Area

pytestmark = pytest.mark.django_db


def run(directory, *args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_divisions", str(directory), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def counts(prefix: str) -> dict[str, int]:
    with scopes_disabled():
        areas = Area.objects.filter(code__startswith=prefix)
        return {level: areas.filter(level=level).count()
                for level in (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)}


def rows_in(filename: str, prefix: str) -> int:
    with (BUNDLED_DIR / filename).open(encoding="utf-8") as handle:
        return sum(1 for row in csv.DictReader(handle) if row["code"].startswith(prefix))


def test_beijing_imports_completely_and_idempotently():
    out, _ = run(BUNDLED_DIR, "--city", "1101")
    assert "新建 7901 个，更新 0 个，未变 0 个" in out
    assert counts("1101") == {"city": 1, "district": 16, "street": 349, "community": 7535}
    assert counts("110101") == {"city": 0, "district": 1, "street": 17, "community": 169}
    with scopes_disabled():
        city = Area.objects.get(code="1101")
        assert (city.name, city.level, city.parent) == ("北京市", AreaLevel.CITY, None)
        street = Area.objects.get(code="110101001")
        assert (street.name, street.pinyin_initials, street.parent.code) == ("东华门街道", "dhmjd", "110101")
        community = Area.objects.get(code="110101001001")
        assert community.name == "多福巷社区居委会" and community.parent == street
        assert Area.objects.filter(pinyin_initials__startswith="dfx", level=AreaLevel.COMMUNITY).filter(
            code="110101001001").exists()
        # Every community hangs under a street whose code it extends.
        assert not Area.objects.filter(level=AreaLevel.COMMUNITY, parent__level=AreaLevel.DISTRICT).exists()
    entry = AuditEntry.objects.get(action="orgs.divisions.imported")
    assert entry.after["created"] == 7901 and entry.after["levels"]["community"]["created"] == 7535

    out, _ = run(BUNDLED_DIR, "--city", "1101")
    assert "新建 0 个，更新 0 个，未变 7901 个" in out
    assert counts("1101") == {"city": 1, "district": 16, "street": 349, "community": 7535}
    assert AuditEntry.objects.filter(action="orgs.divisions.imported").count() == 1


def test_one_district_only():
    with scopes_disabled():
        report = divisions_import(actor=None, city="1101", district="110101")
    assert (report.count(AreaLevel.STREET), report.count(AreaLevel.COMMUNITY)) == (17, 169)
    assert counts("1101") == {"city": 1, "district": 1, "street": 17, "community": 169}


def test_another_city_in_the_same_format():
    run(BUNDLED_DIR, "--city", "3101")
    assert counts("3101") == {
        "city": 1,
        "district": rows_in("areas.csv", "3101"),
        "street": rows_in("streets.csv", "3101"),
        "community": rows_in("villages.csv", "3101"),
    }
    assert counts("3101")["district"] == 16
    with scopes_disabled():
        assert Area.objects.get(code="3101").name == "上海市"
        assert Area.objects.get(code="310101").name == "黄浦区"
        assert not Area.objects.filter(code__startswith="1101").exists()


def test_a_changed_name_is_updated(tmp_path):
    source = tmp_path / "divisions"
    shutil.copytree(BUNDLED_DIR, source)
    run(source, "--city", "1101", "--district", "110101")
    streets = source / "streets.csv"
    streets.write_text(streets.read_text(encoding="utf-8").replace('"景山街道"', '"景山新街道"'), encoding="utf-8")
    out, _ = run(source, "--city", "1101", "--district", "110101")
    assert "新建 0 个，更新 1 个" in out
    with scopes_disabled():
        street = Area.objects.get(code="110101002")
    assert (street.name, street.pinyin_initials) == ("景山新街道", "jsxjd")


# --- Errors: small synthetic files -------------------------------------------------

PROVINCES = "code,name\n11,北京市\n"
CITIES = "code,name,provinceCode\n1101,市辖区,11\n"
AREAS = "code,name,cityCode,provinceCode\n110101,东城区,1101,11\n"
STREETS = ("code,name,areaCode,provinceCode,cityCode\n"
           "110101001,东华门街道,110101,11,1101\n"
           "110101002,景山街道,110101,11,1101\n")
VILLAGE_HEADER = "code,name,streetCode,provinceCode,cityCode,areaCode\n"
GOOD_VILLAGES = ("110101001001,多福巷社区居委会,110101001,11,1101,110101\n"
                 "110101001002,银闸社区居委会,110101001,11,1101,110101\n"
                 "110101002001,吉祥社区居委会,110101002,11,1101,110101\n")


def write(tmp_path, *, villages=VILLAGE_HEADER + GOOD_VILLAGES, streets=STREETS, areas=AREAS, cities=CITIES):
    for name, text in {"provinces.csv": PROVINCES, "cities.csv": cities, "areas.csv": areas,
                       "streets.csv": streets, "villages.csv": villages}.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_small_files_import(tmp_path):
    out, _ = run(write(tmp_path), "--city", "1101")
    assert "新建 7 个" in out
    assert counts("1101") == {"city": 1, "district": 1, "street": 2, "community": 3}


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        ("11010100100A,坏代码社区居委会,110101001,11,1101,110101", "只能包含数字"),
        ("1101010010031,太长社区居委会,110101001,11,1101,110101", "应为 12 位"),
        ("110101002009,错挂社区居委会,110101001,11,1101,110101", "应以上级代码“110101001”开头"),
        ("110101009001,无主社区居委会,110101009,11,1101,110101", "上级区划代码“110101009”不存在"),
        ("110101001001,重复社区居委会,110101001,11,1101,110101", "重复（第 2 行已有）"),
        ("110101001005,,110101001,11,1101,110101", "名称为空"),
        ("110101001006,缺列社区居委会", "列数不足"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_and_nothing_is_imported(tmp_path, bad_row, message):
    villages = VILLAGE_HEADER + GOOD_VILLAGES + bad_row + "\n"
    with pytest.raises(CommandError) as info:
        run(write(tmp_path, villages=villages), "--city", "1101")
    assert "未导入任何数据" in str(info.value)
    with pytest.raises(DivisionsError) as info, scopes_disabled():
        divisions_import(actor=None, directory=tmp_path, city="1101")
    errors = [e for e in info.value.errors if e.file == "villages.csv"]
    assert errors and errors[0].line == 5
    assert message in errors[0].message
    assert f"villages.csv 第 5 行：{errors[0].message}" == str(errors[0])
    assert counts("1101") == {"city": 0, "district": 0, "street": 0, "community": 0}
    assert not AuditEntry.objects.filter(action="orgs.divisions.imported").exists()


def test_the_error_report_goes_to_stderr_with_every_bad_row(tmp_path):
    villages = (VILLAGE_HEADER + GOOD_VILLAGES
                + "110101001009,,110101001,11,1101,110101\n"
                + "\n"
                + "abc,坏社区,110101001,11,1101,110101\n")
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_divisions", str(write(tmp_path, villages=villages)), "--city", "1101",
                     stdout=io.StringIO(), stderr=err)
    lines = err.getvalue().splitlines()
    assert "villages.csv 第 5 行：名称为空。" in lines
    assert any(line.startswith("villages.csv 第 7 行：区划代码“abc”只能包含数字") for line in lines)


def test_a_malformed_file_is_refused(tmp_path):
    villages = "code,name,provinceCode\n" + GOOD_VILLAGES
    with pytest.raises(DivisionsError) as info, scopes_disabled():
        divisions_import(actor=None, directory=write(tmp_path, villages=villages), city="1101")
    [error] = info.value.errors
    assert (error.file, error.line) == ("villages.csv", 1)
    assert "缺少列：streetCode" in error.message
    (tmp_path / "streets.csv").unlink()
    with pytest.raises(DivisionsError) as info, scopes_disabled():
        divisions_import(actor=None, directory=tmp_path, city="1101")
    assert any(e.file == "streets.csv" and "找不到文件" in e.message for e in info.value.errors)


def test_unknown_city_and_bad_city_code(tmp_path):
    write(tmp_path)
    with pytest.raises(CommandError):
        run(tmp_path, "--city", "4401")
    with pytest.raises(DivisionsError) as info, scopes_disabled():
        divisions_import(actor=None, directory=tmp_path, city="11")
    assert "4 位数字" in info.value.errors[0].message


def test_a_bad_row_leaves_an_earlier_import_untouched(tmp_path):
    run(write(tmp_path), "--city", "1101")
    renamed = GOOD_VILLAGES.replace("银闸社区居委会", "银闸新社区居委会")
    with pytest.raises(CommandError):
        run(write(tmp_path, villages=VILLAGE_HEADER + renamed + "110101001007,,110101001,11,1101,110101\n"),
            "--city", "1101")
    with scopes_disabled():
        assert Area.objects.get(code="110101001002").name == "银闸社区居委会"
    assert counts("1101")["community"] == 3


def test_rows_of_other_cities_are_not_validated(tmp_path):
    villages = VILLAGE_HEADER + GOOD_VILLAGES + "310101002001,,310101002,31,3101,310101\n"
    run(write(tmp_path, villages=villages), "--city", "1101")
    assert counts("1101")["community"] == 3


def test_system_import_needs_scopes_disabled(tmp_path):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        divisions_import(actor=None, directory=write(tmp_path), city="1101")
