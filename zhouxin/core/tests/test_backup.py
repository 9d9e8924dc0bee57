"""Backups: `manage.py backup` and `manage.py restore`, on SQLite and on PostgreSQL.

A restore replaces the database under the test's own connection, so these tests are
transactional (the database is flushed after each, as after any transactional test)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sys
import tarfile
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from zhouxin.core import audit, backup
from zhouxin.core.models import AuditEntry, AuditSeal
from zhouxin.dispatch import services
from zhouxin.dispatch.models import ServiceRequest
from zhouxin.orgs.models import Person

pytestmark = pytest.mark.django_db(transaction=True)

OTHER_VENDOR = {"sqlite": "postgresql", "postgresql": "sqlite"}


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO(), **options)
    return out.getvalue()


def new_request(personas, world, title: str) -> ServiceRequest:
    return services.request_intake(
        actor=personas.community_staff, kind="complaint", channel="hotline", area=personas.areas["community_a"],
        title=title, description="3号楼2单元楼道长期堆放纸箱杂物，影响通行。", contact_phone="13812345678",
        category=world.categories["040102"])


def titles() -> set[str]:
    return set(ServiceRequest.objects.unscoped().values_list("title", flat=True))


def live_digests() -> dict:
    with transaction.atomic():
        return backup.live_inspector().digests()


@pytest.fixture
def archive(personas, dispatch_world, tmp_path) -> Path:
    """A backup holding one request; a second request is written after it, so a restore would show."""
    new_request(personas, dispatch_world, "楼道堆放杂物")
    path = tmp_path / "good.zxbak"
    run("backup", output=str(path))
    new_request(personas, dispatch_world, "备份之后的诉求")
    return path


def members(path: Path) -> tuple[dict, str, bytes, str]:
    """(manifest, signature, dump bytes, dump name) of an archive."""
    data = path.read_bytes()[:-backup.TRAILER_LEN]
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        manifest = json.loads(tar.extractfile(backup.MANIFEST).read())
        signature = tar.extractfile(backup.SIGNATURE).read().decode()
        dump = tar.extractfile(manifest["dump"]["name"]).read()
    return manifest, signature, dump, manifest["dump"]["name"]


def rewrite(path: Path, tmp_path: Path, manifest: dict, dump: bytes, *, signature: str | None) -> None:
    """Write an archive as a forger would: a consistent trailer, the given signature
    (None: signed with this system's own key, i.e. a backup from a system sharing it)."""
    dump_file = tmp_path / f"forged-{uuid.uuid4().hex}"
    dump_file.write_bytes(dump)
    backup.write_archive(path, manifest, dump_file, signature=signature)


def assert_refused(path: Path, message: str, *, yes: bool = True) -> None:
    """The restore is refused with `message`, and nothing was touched: same content, no safety copy."""
    before = live_digests()
    requests_before = titles()
    with pytest.raises(CommandError) as refused:
        run("restore", str(path), yes=yes)
    assert message in str(refused.value)
    assert live_digests() == before
    assert titles() == requests_before == {"楼道堆放杂物", "备份之后的诉求"}
    assert not list(backup.backup_dir().glob("*pre-restore*"))


# --- the round trip ------------------------------------------------------------------------

def test_backup_then_restore_brings_the_data_back_and_verifies(personas, dispatch_world, tmp_path):
    first = new_request(personas, dispatch_world, "楼道堆放杂物")
    path = tmp_path / "round-trip.zxbak"
    out = run("backup", output=str(path))
    assert "备份完成" in out and str(path) in out
    manifest = members(path)[0]
    assert manifest["vendor"] == connection.vendor
    assert manifest["tables"]["dispatch_servicerequest"]["rows"] == 1
    assert manifest["migrations"]["latest"]["core"] == "0004_rate_limit_window"
    head = AuditSeal.objects.order_by("-seq").values_list("seq", "hash").first()
    assert head is not None and manifest["audit"]["head_seq"] in (head[0], head[0] - 1)  # the backup's own entry
    assert AuditSeal.objects.get(seq=manifest["audit"]["head_seq"]).hash == manifest["audit"]["head_hash"]
    assert AuditEntry.objects.filter(action=backup.ACTION_CREATED, object_id=path.name).exists()

    # After the backup: one request is edited, one is added, one person is gone.
    ServiceRequest.objects.unscoped().filter(pk=first.pk).update(title="改过的标题")
    new_request(personas, dispatch_world, "备份之后的诉求")
    gone = personas.people["resident_b"].pk
    Person.objects.unscoped().filter(pk=gone).delete()
    assert titles() == {"改过的标题", "备份之后的诉求"}

    out = run("restore", str(path), yes=True)
    assert "校验通过（OK）" in out
    assert titles() == {"楼道堆放杂物"}
    assert ServiceRequest.objects.unscoped().get(pk=first.pk).contact_phone == "13812345678"  # still decrypts
    assert Person.objects.unscoped().filter(pk=gone).exists()

    # The chain verifies and goes on from the backup's head with the restore itself.
    chain = audit.verify_chain()
    assert chain.ok and chain.unsealed == 0
    restored = AuditEntry.objects.order_by("-id").first()
    assert restored.action == backup.ACTION_RESTORED and restored.result == "ok"
    assert restored.after["sha256"] == backup.read_archive(path).sha256
    assert chain.head_seq == manifest["audit"]["head_seq"] + 1
    assert not AuditEntry.objects.filter(action="dispatch.request.received", object_repr__contains="备份之后").exists()
    # The audit log is still append-only.
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [restored.pk])

    # The safety copy holds the database as it was just before the restore, and restores too.
    safety = list(backup.backup_dir().glob("zhouxin-pre-restore-*.zxbak"))
    assert len(safety) == 1 and f"安全副本：{safety[0]}" in out
    run("restore", str(safety[0]), yes=True, no_safety_copy=True)
    assert titles() == {"改过的标题", "备份之后的诉求"}
    assert audit.verify_chain().ok


def test_backup_goes_to_the_backup_directory_by_default(personas):
    out = run("backup")
    [made] = list(backup.backup_dir().glob("zhouxin-*.zxbak"))
    assert str(made) in out
    assert made.stat().st_mode & 0o077 == 0  # the whole database: readable by its owner only


def test_verify_only_checks_an_archive_and_changes_nothing(archive):
    before = live_digests()
    out = run("restore", str(archive), verify_only=True)
    assert "校验通过" in out and "行" in out
    assert "校验通过" in run("backup", verify=str(archive))
    assert live_digests() == before
    assert titles() == {"楼道堆放杂物", "备份之后的诉求"}


# --- refusals: nothing is touched ------------------------------------------------------------

def test_corrupted_archive_is_refused(archive):
    data = bytearray(archive.read_bytes())
    middle = len(data) // 2
    for i in range(middle, middle + 8):
        data[i] ^= 0xFF
    archive.write_bytes(bytes(data))
    assert_refused(archive, "备份文件已损坏")


@pytest.mark.parametrize("keep", [0.5, -1], ids=["half", "last-byte"])
def test_truncated_archive_is_refused(archive, keep):
    data = archive.read_bytes()
    archive.write_bytes(data[:int(len(data) * keep)] if keep > 0 else data[:keep])
    assert_refused(archive, "可能被截断")


def test_tampered_manifest_is_refused_even_with_a_recomputed_checksum(archive, tmp_path):
    manifest, signature, dump, _name = members(archive)
    manifest["tables"]["dispatch_servicerequest"]["rows"] = 2
    rewrite(archive, tmp_path, manifest, dump, signature=signature)
    assert_refused(archive, "备份清单的签名不符")


def test_replaced_dump_is_refused(archive, tmp_path):
    manifest, signature, dump, _name = members(archive)
    rewrite(archive, tmp_path, manifest, dump[:-10] + bytes(b ^ 0xFF for b in dump[-10:]), signature=signature)
    assert_refused(archive, "与清单记录的校验和不符")


def test_backup_of_the_other_database_vendor_is_refused(archive, tmp_path):
    manifest, _signature, dump, _name = members(archive)
    other = OTHER_VENDOR[connection.vendor]
    manifest["vendor"] = other
    manifest["dump"]["name"] = backup.DUMP_NAMES[other]
    rewrite(archive, tmp_path, manifest, dump, signature=None)
    assert_refused(archive, f"这是 {backup.VENDOR_LABELS[other]} 数据库的备份，当前数据库是 "
                            f"{backup.VENDOR_LABELS[connection.vendor]}")


def test_backup_from_a_newer_version_is_refused(archive, tmp_path):
    manifest, _signature, dump, _name = members(archive)
    manifest["migrations"]["applied"].append("core.9999_from_the_future")
    rewrite(archive, tmp_path, manifest, dump, signature=None)
    assert_refused(archive, "core.9999_from_the_future")


def test_a_file_that_is_no_backup_is_refused(archive):
    archive.write_bytes(b"SQLite format 3\0" + b"x" * 4000)
    assert_refused(archive, "这不是轴心的备份文件")


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite dumps are checked against the manifest before")
def test_sqlite_dump_not_matching_its_signed_manifest_is_refused_before_restoring(archive, tmp_path):
    manifest, _signature, dump, _name = members(archive)
    manifest["tables"]["dispatch_servicerequest"]["rows"] = 2
    rewrite(archive, tmp_path, manifest, dump, signature=None)
    assert_refused(archive, "备份内容与清单不符")


def test_restore_without_confirmation_is_refused(archive, monkeypatch):
    monkeypatch.setattr(sys, "stdin", StringIO(""))
    assert_refused(archive, "请加 --yes 确认", yes=False)


def test_restore_asks_and_stops_on_no(archive, monkeypatch):
    class Terminal(StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert_refused(archive, "已取消，数据库未改动", yes=False)


def test_an_existing_file_is_not_overwritten(personas, tmp_path):
    path = tmp_path / "kept.zxbak"
    path.write_bytes(b"an earlier backup")
    with pytest.raises(CommandError, match="已存在，不覆盖"):
        run("backup", output=str(path))
    assert path.read_bytes() == b"an earlier backup"


def test_unwritable_backup_directory_is_refused(personas, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(CommandError, match="无法写入备份目录"):
        run("backup", output=str(blocker / "backups" / "x.zxbak"))
    assert not AuditEntry.objects.filter(action=backup.ACTION_CREATED).exists()


def test_missing_postgresql_tools_are_named(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ZHOUXIN_PG_BINDIR", raising=False)
    monkeypatch.setattr(backup.glob, "glob", lambda pattern: [])
    with pytest.raises(backup.BackupError, match="找不到 PostgreSQL 工具 pg_dump") as missing:
        backup.pg_tool("pg_dump")
    assert missing.value.code == "pg_tool_missing"


# --- after the restore --------------------------------------------------------------------

def test_failed_verification_after_restore_is_loud_and_exits_non_zero(archive, tmp_path, monkeypatch):
    manifest, _signature, dump, _name = members(archive)
    manifest["tables"]["dispatch_servicerequest"]["rows"] = 5
    rewrite(archive, tmp_path, manifest, dump, signature=None)
    monkeypatch.setattr(backup, "check_dump_content", lambda archive, dump: None)  # let it through to the end
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("restore", str(archive), yes=True, stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 2
    assert "恢复后校验失败" in err.getvalue()
    assert "表 dispatch_servicerequest 行数 1，应为 5" in err.getvalue()
    assert "安全副本" in err.getvalue()
    assert titles() == {"楼道堆放杂物"}  # the dump itself was restored
    last = AuditEntry.objects.order_by("-id").first()
    assert (last.action, last.result) == (backup.ACTION_RESTORED, "failed")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the PostgreSQL restore runs in one transaction")
@pytest.mark.parametrize("failure", ["psql", "pg_restore"])
def test_a_postgresql_restore_that_fails_half_way_changes_nothing(archive, monkeypatch, tmp_path, failure):
    if failure == "psql":  # an error after every table was dropped
        monkeypatch.setattr(backup, "PG_DROP_SCHEMA_OBJECTS", backup.PG_DROP_SCHEMA_OBJECTS + "SELECT 1/0;")
        message = "psql 恢复失败"
    else:  # pg_restore dies after some of the script went to psql
        real = backup.pg_tool("pg_restore")
        fake = tmp_path / "pg_restore"
        fake.write_text(f'#!/bin/sh\n[ "$1" = --list ] && exec "{real}" "$@"\n"{real}" "$@" | head -c 20000\nexit 3\n')
        fake.chmod(0o755)
        monkeypatch.setattr(backup, "pg_tool", lambda name: str(fake) if name == "pg_restore" else real.replace(
            "pg_restore", name))
        message = "pg_restore 失败（退出码 3）"
    before = live_digests()
    with pytest.raises(CommandError, match=message):
        run("restore", str(archive), yes=True, no_safety_copy=True)
    assert live_digests() == before
    assert titles() == {"楼道堆放杂物", "备份之后的诉求"}
    assert audit.verify_chain().ok


# --- canonical values -----------------------------------------------------------------------

@pytest.mark.django_db(transaction=False)
@pytest.mark.parametrize(("kind", "sqlite_value", "postgresql_value"), [
    ("DecimalField", 12.5, Decimal("12.50")),
    ("DecimalField", 100, Decimal("100.00")),
    ("DateTimeField", dt.datetime(2026, 3, 1, 4, 0, 0, 123), dt.datetime(2026, 3, 1, 12, 0, 0, 123,
                                                                          tzinfo=dt.timezone(dt.timedelta(hours=8)))),
    ("JSONField", '{"b":1,"a":[1,"二"]}', '{"a": [1, "二"], "b": 1}'),
    ("BooleanField", 1, True),
    ("UUIDField", "0f8fad5bd9cb469fa16570867728950e", uuid.UUID("0f8fad5b-d9cb-469f-a165-70867728950e")),
    ("DurationField", 90_000_000, dt.timedelta(seconds=90)),
    ("BinaryField", b"\x00\xff", memoryview(b"\x00\xff")),
    ("GenericIPAddressField", "2001:db8::1", "2001:db8:0:0:0:0:0:1"),
    ("DateField", dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
    ("CharField", None, None),
])
def test_values_hash_the_same_whichever_database_returned_them(kind, sqlite_value, postgresql_value):
    assert backup._canonical(sqlite_value, kind) == backup._canonical(postgresql_value, kind)


@pytest.mark.django_db(transaction=False)
def test_different_values_hash_differently():
    assert backup._canonical("1", "CharField") != backup._canonical(1, "IntegerField")
    assert backup._canonical(None, "CharField") != backup._canonical("", "CharField")
    assert backup._canonical(Decimal("12.5"), "DecimalField") != backup._canonical(Decimal("12.51"), "DecimalField")
