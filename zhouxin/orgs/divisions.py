"""Import of the area tree from the national divisions CSV files (统计用区划代码).

The files keep the `china-division` package's names and columns (see
data/divisions/README.md): provinces.csv, cities.csv, areas.csv (districts and
counties), streets.csv (streets and towns) and villages.csv (neighbourhood and
village committees, the community level).

An import is two phases.  `read_divisions` reads and validates every row that
belongs to the chosen city and returns the nodes or, if anything is wrong, every
error with its file and line, before the database is touched.  `divisions_import`
then compares the nodes with the tree and writes only the difference with
bulk_create/bulk_update in batches, in one transaction, with one audit entry for
the run.  Re-running with unchanged files writes nothing.
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from zhouxin.core import audit

from .choices import CODE_LENGTH, AreaLevel
from .models import Area
from .services import area_search_keys, authorize
from .signals import areas_changed

BUNDLED_DIR = Path(__file__).resolve().parent / "data" / "divisions"
BATCH_SIZE = 500
NAME_MAX = Area._meta.get_field("name").max_length
# City rows that stand for "the province's own districts" take the province's name (1101,市辖区 → 北京市).
PLACEHOLDER_CITY_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


@dataclass(frozen=True)
class FileSpec:
    filename: str
    level: str
    parent_column: str | None


PROVINCES = FileSpec("provinces.csv", AreaLevel.PROVINCE, None)
CITIES = FileSpec("cities.csv", AreaLevel.CITY, "provinceCode")
DISTRICTS = FileSpec("areas.csv", AreaLevel.DISTRICT, "cityCode")
STREETS = FileSpec("streets.csv", AreaLevel.STREET, "areaCode")
COMMUNITIES = FileSpec("villages.csv", AreaLevel.COMMUNITY, "streetCode")
FILES = (PROVINCES, CITIES, DISTRICTS, STREETS, COMMUNITIES)
LEVELS = (AreaLevel.CITY, AreaLevel.DISTRICT, AreaLevel.STREET, AreaLevel.COMMUNITY)


@dataclass(frozen=True)
class RowError:
    file: str
    line: int | None
    message: str

    def __str__(self):
        if self.line is None:
            return _("%(file)s：%(message)s") % {"file": self.file, "message": self.message}
        return _("%(file)s 第 %(line)d 行：%(message)s") % {"file": self.file, "line": self.line,
                                                         "message": self.message}


class DivisionsError(Exception):
    """The files could not be imported; `errors` lists every problem found."""

    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__(_("区划数据有 %(n)d 处错误，未导入任何数据。") % {"n": len(errors)})


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    level: str
    parent_code: str | None
    file: str
    line: int


@dataclass
class ImportReport:
    city: str
    city_name: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    by_level: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def count(self, level: str) -> int:
        return sum(self.by_level.get(level, {}).values())

    def summary(self) -> str:
        return _("%(name)s（%(code)s）：新建 %(created)d 个，更新 %(updated)d 个，未变 %(unchanged)d 个，"
                 "用时 %(seconds).1f 秒。") % {
            "name": self.city_name, "code": self.city, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "seconds": self.seconds}


# ---------------------------------------------------------------------------
# Reading and validation
# ---------------------------------------------------------------------------


def _read_rows(directory: Path, spec: FileSpec, errors: list[RowError]):
    """Yield (line number, row dict) of a file whose header has the needed columns."""
    path = directory / spec.filename
    if not path.is_file():
        errors.append(RowError(spec.filename, None, _("找不到文件 %(path)s。") % {"path": path}))
        return
    needed = ["code", "name"] + ([spec.parent_column] if spec.parent_column else [])
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            header = [h.strip() for h in (reader.fieldnames or [])]
            reader.fieldnames = header
            missing = [c for c in needed if c not in header]
            if missing:
                errors.append(RowError(spec.filename, 1, _("缺少列：%(cols)s（应有 %(need)s）。") % {
                    "cols": pgettext("列表分隔", "、").join(missing), "need": ",".join(needed)}))
                return
            for row in reader:
                # The physical line the row ends on (blank lines are counted, as an editor shows them).
                yield reader.line_num, row
    except UnicodeDecodeError:
        errors.append(RowError(spec.filename, None, _("文件不是 UTF-8 编码。")))
    except csv.Error as exc:
        errors.append(RowError(spec.filename, None, _("CSV 格式错误：%(error)s") % {"error": exc}))


def _cell(row: dict, column: str) -> str | None:
    value = row.get(column)
    return None if value is None else value.strip()


def _check_row(spec: FileSpec, line: int, row: dict, parents: set[str] | None, seen: dict[str, int],
               errors: list[RowError]) -> Node | None:
    """Validate one row; return its node, or None after recording its errors."""
    code, name = _cell(row, "code"), _cell(row, "name")
    parent = _cell(row, spec.parent_column) if spec.parent_column else None
    if code is None or name is None or (spec.parent_column and parent is None):
        errors.append(RowError(spec.filename, line, _("该行的列数不足。")))
        return None
    problems = []
    length = CODE_LENGTH[spec.level]
    if not code:
        problems.append(_("区划代码为空。"))
    elif not (code.isascii() and code.isdigit()):
        problems.append(_("区划代码“%(code)s”只能包含数字。") % {"code": code})
    elif len(code) != length:
        problems.append(_("区划代码“%(code)s”应为 %(n)d 位（%(level)s）。") % {
            "code": code, "n": length, "level": AreaLevel(spec.level).label})
    elif parent is not None and not code.startswith(parent):
        problems.append(_("区划代码“%(code)s”应以上级代码“%(parent)s”开头。") % {"code": code, "parent": parent})
    if parent is not None and parents is not None:
        if not parent:
            problems.append(_("上级区划代码为空。"))
        elif parent not in parents:
            problems.append(_("上级区划代码“%(parent)s”不存在。") % {"parent": parent})
    if not name:
        problems.append(_("名称为空。"))
    elif len(name) > NAME_MAX:
        problems.append(_("名称超过 %(n)d 个字。") % {"n": NAME_MAX})
    if code and code in seen:
        problems.append(_("区划代码“%(code)s”重复（第 %(line)d 行已有）。") % {"code": code, "line": seen[code]})
    if code:
        seen.setdefault(code, line)
    if problems:
        errors.extend(RowError(spec.filename, line, p) for p in problems)
        return None
    return Node(code=code, name=name, level=spec.level, parent_code=parent, file=spec.filename, line=line)


def _belongs(row: dict, spec: FileSpec, prefix: str) -> bool:
    """A row is part of the import when its code or its parent's code lies under the prefix,
    so that a broken code inside the city is reported rather than silently skipped."""
    code = (row.get("code") or "").strip()
    parent = (row.get(spec.parent_column) or "").strip() if spec.parent_column else ""
    city = (row.get("cityCode") or "").strip()
    return (code.startswith(prefix) or (len(parent) >= len(prefix) and parent.startswith(prefix))
            or (len(prefix) == 4 and city == prefix))


def read_divisions(directory: str | Path, *, city: str, district: str | None = None) -> list[Node]:
    """Every node of `city` (a 4-digit code), or only of one of its districts, parents first.

    Raises DivisionsError listing every problem (file, line, message) when anything is wrong.
    """
    directory = Path(directory)
    errors: list[RowError] = []
    city = (city or "").strip()
    if not (city.isascii() and city.isdigit() and len(city) == 4):
        raise DivisionsError([RowError("--city", None, _("城市代码应为 4 位数字，例如北京 1101。"))])
    if district is not None:
        district = district.strip()
        if not (district.isascii() and district.isdigit() and len(district) == 6 and district.startswith(city)):
            raise DivisionsError([RowError("--district", None,
                                           _("区县代码应为以城市代码 %(city)s 开头的 6 位数字。") % {"city": city})])
    if not directory.is_dir():
        raise DivisionsError([RowError(str(directory), None, _("目录不存在。"))])

    province_name = None
    for line, row in _read_rows(directory, PROVINCES, errors):
        if (row.get("code") or "").strip() == city[:2]:
            province_name = (row.get("name") or "").strip()
            if not province_name:
                errors.append(RowError(PROVINCES.filename, line, _("名称为空。")))

    city_node = None
    seen: dict[str, int] = {}
    for line, row in _read_rows(directory, CITIES, errors):
        if (row.get("code") or "").strip() != city:
            continue
        node = _check_row(CITIES, line, row, None, seen, errors)
        if node is not None:
            name = node.name
            if name in PLACEHOLDER_CITY_NAMES and province_name:
                name = province_name
            city_node = Node(code=city, name=name, level=AreaLevel.CITY, parent_code=None, file=node.file,
                             line=node.line)
    if city_node is None and not any(e.file == CITIES.filename for e in errors):
        errors.append(RowError(CITIES.filename, None, _("没有城市代码为 %(city)s 的行。") % {"city": city}))

    nodes: list[Node] = [city_node] if city_node else []
    parents = {city}
    for spec in (DISTRICTS, STREETS, COMMUNITIES):
        prefix = district or city
        level_seen: dict[str, int] = {}
        level_nodes: list[Node] = []
        for line, row in _read_rows(directory, spec, errors):
            if not _belongs(row, spec, prefix):
                continue
            node = _check_row(spec, line, row, parents, level_seen, errors)
            if node is not None:
                level_nodes.append(node)
        if district and spec is DISTRICTS and not any(n.code == district for n in level_nodes) \
                and not any(e.file == spec.filename for e in errors):
            errors.append(RowError(spec.filename, None, _("没有区县代码为 %(code)s 的行。") % {"code": district}))
        nodes.extend(level_nodes)
        # Children may hang from any well-formed code of this level, even one whose row has
        # another error, so a single bad row does not bury its children under follow-on errors.
        parents = {code for code in level_seen if code.isdigit() and len(code) == CODE_LENGTH[spec.level]}
    if errors:
        raise DivisionsError(errors)
    return nodes


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


@transaction.atomic
def divisions_import(*, actor, directory: str | Path = BUNDLED_DIR, city: str,
                     district: str | None = None) -> ImportReport:
    """Create or update the city → district → street → community tree from the files.

    Validates everything first (DivisionsError, nothing written); then writes only
    new and changed nodes, in batches, with one audit entry for the run.  Areas that
    are not in the files (grids, or a community dropped from a newer edition) are
    left alone: they may carry requests, people and history.
    """
    started = time.perf_counter()
    nodes = read_divisions(directory, city=city, district=district)
    authorize(actor, "orgs.edit", city)
    city_node = nodes[0]
    report = ImportReport(city=city, city_name=city_node.name)

    existing = {
        row["code"]: row
        for row in Area.objects.unscoped().filter(code__startswith=city)
        .values("id", "code", "name", "level", "parent_id", "pinyin", "pinyin_initials")
    }
    ids = {code: row["id"] for code, row in existing.items()}
    by_level: dict[str, list[Node]] = {level: [] for level in LEVELS}
    for node in nodes:
        by_level[node.level].append(node)

    for level in LEVELS:
        to_create: list[Area] = []
        to_update: list[Area] = []
        unchanged = 0
        for node in by_level[level]:
            pinyin, initials = area_search_keys(node.name, level)
            parent_id = ids[node.parent_code] if node.parent_code else None
            current = existing.get(node.code)
            if current is None:
                to_create.append(Area(code=node.code, name=node.name, level=level, parent_id=parent_id,
                                      pinyin=pinyin, pinyin_initials=initials))
                continue
            wanted = {"name": node.name, "level": level, "pinyin": pinyin, "pinyin_initials": initials}
            if level != AreaLevel.CITY:  # a city node may hang under a province created by hand
                wanted["parent_id"] = parent_id
            if all(current[key] == value for key, value in wanted.items()):
                unchanged += 1
                continue
            area = Area(id=current["id"], code=node.code, parent_id=current["parent_id"])
            for key, value in wanted.items():
                setattr(area, key, value)
            to_update.append(area)
        if to_create:
            Area.objects.unscoped().bulk_create(to_create, batch_size=BATCH_SIZE)
            codes = [a.code for a in to_create]
            for start in range(0, len(codes), BATCH_SIZE):
                ids.update(Area.objects.unscoped().filter(code__in=codes[start:start + BATCH_SIZE])
                           .values_list("code", "id"))
        if to_update:
            Area.objects.unscoped().bulk_update(
                to_update, ["name", "level", "parent", "pinyin", "pinyin_initials"], batch_size=BATCH_SIZE)
            transaction.on_commit(lambda: areas_changed.send(sender=Area))
        report.by_level[level] = {"created": len(to_create), "updated": len(to_update), "unchanged": unchanged}
        report.created += len(to_create)
        report.updated += len(to_update)
        report.unchanged += unchanged

    report.seconds = time.perf_counter() - started
    if report.created or report.updated:
        audit.record(
            actor=actor, action="orgs.divisions.imported", object_type="orgs.area", object_id=ids[city],
            object_repr=city_node.name,
            after={"city": city, "district": district or "", "source": Path(directory).name,
                   "created": report.created, "updated": report.updated, "unchanged": report.unchanged,
                   "levels": report.by_level},
        )
    return report
