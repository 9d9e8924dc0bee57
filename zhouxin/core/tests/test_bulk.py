"""core.bulk (many rows in one statement) and audit.record_with_insert (a row and its audit
entry in one statement): they write exactly what the ORM's own save paths write."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from zhouxin.core import audit, bulk
from zhouxin.core.models import AuditEntry
from zhouxin.dispatch.models import Category
from zhouxin.orgs.models import Area

pytestmark = pytest.mark.django_db

def _areas(n):
    city = Area.objects.unscoped().create(code="9901", name="测试市", level="city")
    return [Area.objects.unscoped().create(code=f"9901{i:02d}", name=f"第{i}区", level="district", parent=city)
            for i in range(1, n + 1)]


def test_update_rows_gives_each_row_its_own_values():
    areas = _areas(3)
    untouched = Area.objects.unscoped().get(code="9901")
    for i, area in enumerate(areas):
        area.name, area.households, area.boundary = f"新{i}区", i * 100 or None, {"type": "Point", "n": i}
    assert bulk.update_rows(Area, areas[:2], ["name", "households", "boundary"]) == 2
    rows = {a.code: a for a in Area.objects.unscoped().filter(code__startswith="9901")}
    assert (rows["990101"].name, rows["990101"].households, rows["990101"].boundary) == (
        "新0区", None, {"type": "Point", "n": 0})
    assert (rows["990102"].name, rows["990102"].households, rows["990102"].boundary) == (
        "新1区", 100, {"type": "Point", "n": 1})
    assert rows["990103"].name == "第3区" and rows["990103"].households is None  # not in the batch
    assert rows["9901"].name == untouched.name


def test_update_rows_is_one_statement_on_postgresql():
    areas = _areas(4)
    for area in areas:
        area.name += "（改）"
    with CaptureQueriesContext(connection) as queries:
        bulk.update_rows(Area, areas, ["name"])
    if connection.vendor == "postgresql":
        assert len(queries.captured_queries) == 1
        assert "UNNEST" in queries.captured_queries[0]["sql"]
    assert set(Area.objects.unscoped().filter(level="district", code__startswith="9901")
               .values_list("name", flat=True)) == {f"第{i}区（改）" for i in range(1, 5)}
    assert bulk.update_rows(Area, [], ["name"]) == 0


def test_insert_statement_writes_what_save_writes():
    parent = Category.objects.create(code="99", name="测试大类", level=1)
    made = Category(code="9901", name="测试中类", level=2, parent=parent, keywords="噪音 扰民")
    sql, params = bulk.insert_statement(made, connection=connection)
    assert sql.startswith(f"INSERT INTO {connection.ops.quote_name(Category._meta.db_table)} (")
    # Empty columns are written as NULL in the text, not sent as parameters (psycopg caches the
    # parsing of statements with at most 50 parameters; a new request has 50 columns).
    top_sql, top_params = bulk.insert_statement(Category(code="98", name="无上级", level=1), connection=connection)
    assert "NULL" in top_sql and None not in top_params and top_sql.count("%s") == len(top_params)
    assert top_sql != sql and "NULL" not in sql
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
    saved = Category.objects.get(code="9901")
    assert (saved.name, saved.level, saved.parent_id, saved.keywords) == ("测试中类", 2, parent.pk, "噪音 扰民")


def test_record_with_insert_writes_the_row_and_the_entry_record_would_write():
    if connection.vendor != "postgresql":
        pytest.skip("record_with_insert is the PostgreSQL path (a data-modifying WITH); SQLite keeps save()")
    city = Area.objects.unscoped().create(code="9902", name="测试市", level="city")
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Area._meta.db_table])
        new_id = cursor.fetchone()[0]
    area = Area(pk=new_id, code="990201", name="新设区", level="district", parent=city)
    with CaptureQueriesContext(connection) as queries:
        entry = audit.record_with_insert(bulk.insert_statement(area, connection=connection), actor=None,
                                         action="orgs.area.created", obj=area, after={"code": "990201"})
    assert len([q for q in queries.captured_queries if q["sql"].startswith("WITH written")]) == 1
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert Area.objects.unscoped().get(pk=new_id).name == "新设区"
    assert (stored.action, stored.object_type, stored.object_id, stored.after) == (
        "orgs.area.created", "orgs.area", str(new_id), {"code": "990201"})
    assert stored.content_hash == audit.content_hash(stored)  # what verify_audit recomputes

    # The row's own constraint (code is unique) reaches the caller as such, and nothing is written.
    twin = Area(pk=new_id + 1000, code="990201", name="重复", level="district", parent=city)
    before = AuditEntry.objects.count()
    with pytest.raises(IntegrityError), transaction.atomic():
        audit.record_with_insert(bulk.insert_statement(twin, connection=connection), actor=None,
                                 action="orgs.area.created", obj=twin)
    assert AuditEntry.objects.count() == before
    assert not Area.objects.unscoped().filter(pk=new_id + 1000).exists()


def test_record_with_insert_needs_the_primary_key_first():
    area = Area(code="990301", name="无编号", level="district")
    with pytest.raises(ValueError):
        audit.record_with_insert(("INSERT …", []), actor=None, action="orgs.area.created", obj=area)


def test_get_by_pk_reads_what_the_orm_reads_in_one_query():
    from zhouxin.core.backends import ModelBackend
    from zhouxin.core.models import User

    user = User.objects.create_user("zhang_wei", password="x", full_name="张伟")
    user.password_history = ["pbkdf2$a", "pbkdf2$b"]
    user.save()
    expected = User._base_manager.get(pk=user.pk)
    for _ in range(2):  # compiled on the first call, reused on the second
        with CaptureQueriesContext(connection) as queries:
            read = bulk.get_by_pk(User, user.pk)
        assert len(queries.captured_queries) == 1
        assert read is not None and not read._state.adding and read._state.db == "default"
        for field in User._meta.concrete_fields:
            assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
        assert read.password_history == ["pbkdf2$a", "pbkdf2$b"]  # JSON decoded, not text
    assert bulk.get_by_pk(User, user.pk + 1000) is None

    backend = ModelBackend()
    assert backend.get_user(str(user.pk)) == user  # the session stores the id as text
    assert backend.get_user("not-an-id") is None
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert backend.get_user(user.pk) is None  # a deactivated account is signed out


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the binary column arrays are PostgreSQL's bulk INSERT")
def test_bulk_create_sends_binary_column_arrays_and_writes_what_save_writes():
    from decimal import Decimal

    from django.db.models.sql import InsertQuery

    city = Area.objects.unscoped().create(code="9901", name="测试市", level="city")
    values = [  # quotes, braces, backslashes and commas are what the text array format has to escape
        {"name": '甲"区{1,2}\\', "households": None, "latitude": Decimal("39.904200"), "boundary": {"a": [1, None]}},
        {"name": "NULL", "households": 12, "latitude": None, "boundary": None},
        {"name": "乙区", "households": 0, "latitude": Decimal("-1.500000"), "boundary": {"名": "值"}},
    ]
    made = [Area(code=f"99019{i}", level="district", parent=city, **v) for i, v in enumerate(values)]
    query = InsertQuery(Area)
    fields = [f for f in Area._meta.local_concrete_fields if f is not Area._meta.pk]
    query.insert_values(fields, made)
    [(sql, _params)] = query.get_compiler(connection=connection).as_sql()
    assert "UNNEST((%b)::varchar[]" in sql and "(%s)" not in sql

    Area.objects.unscoped().bulk_create(made)
    assert all(a.pk for a in made)
    saved = Area(code="990199", level="district", parent=city, **values[0])
    saved.save()
    for area, expected in zip(made, values, strict=True):
        row = Area.objects.unscoped().get(pk=area.pk)
        assert {k: getattr(row, k) for k in expected} == expected
    twin = Area.objects.unscoped().get(code="990199")
    first = Area.objects.unscoped().get(code="990190")
    assert (twin.name, twin.latitude, twin.boundary) == (first.name, first.latitude, first.boundary)
