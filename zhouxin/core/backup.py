"""Backups of the whole database, and their verified restore (SQLite and PostgreSQL).

A backup is one file, `zhouxin-YYYYmmdd-HHMMSS.zxbak`:

    tar archive                  members, in this order
      manifest.json              what the dump holds (below)
      manifest.sig               HMAC-SHA256 of manifest.json under SECRET_KEY
      database.sqlite3 | database.pgdump
    trailer                      "\\nZXBAK-SHA256 <sha256 of the tar> <tar size, 20 digits>\\n"

The trailer makes a truncated or corrupted file fail before anything else is read;
the manifest's signature makes an edited manifest fail even when whoever edited it
recomputed the trailer (a restore also needs the same SECRET_KEY or one of
SECRET_KEY_FALLBACKS, which the encrypted personal data needs anyway).

The manifest records the migration state, the database vendor, per table the row
count and a content hash (rows ordered by primary key, every value in a canonical
text form, so the hash is the same whether SQLite or PostgreSQL computed it), the
audit chain head and the dump's own sha256.  All of it is taken from the same
snapshot as the dump:

* SQLite: `sqlite3.Connection.backup` copies the live database (WAL mode, online)
  into a file, and the hashes are computed on that file.
* PostgreSQL: a REPEATABLE READ transaction exports its snapshot, `pg_dump
  --format=custom --snapshot=…` dumps exactly that snapshot, and the hashes are
  computed inside the same transaction.

A restore verifies the archive first (trailer, signature, dump hash, vendor, that
the code knows every migration of the backup; on SQLite also the dump's content
against the manifest), writes a safety copy of the current database, replaces the
database (SQLite: the backup API back into the live file; PostgreSQL: every table,
view, sequence and function of the schema is dropped and the dump restored by psql
in one transaction, so a failed restore changes nothing), then checks row counts,
content hashes, migration state and the audit chain against the manifest.  The
audit tables' append-only triggers come back with the dump.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import glob
import hashlib
import hmac
import io
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import tarfile
import tempfile
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import django
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

FORMAT = "zhouxin-backup"
FORMAT_VERSION = 1
SUFFIX = ".zxbak"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DUMP_NAMES = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
VENDOR_LABELS = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
TRAILER_MAGIC = b"\nZXBAK-SHA256 "
TRAILER_LEN = len(TRAILER_MAGIC) + 64 + 1 + 20 + 1
TRAILER_RE = re.compile(rb"\nZXBAK-SHA256 ([0-9a-f]{64}) ([0-9]{20})\n\Z")
HMAC_SALT = "zhouxin.core.backup.manifest"
CHUNK = 1 << 20
ROW_BATCH = 2000

ACTION_CREATED = "core.backup.created"
ACTION_RESTORED = "core.backup.restored"


class BackupError(Exception):
    """A refusal with a message for the operator; `code` says which check refused."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


# --- Where backups go ---------------------------------------------------------

def backup_dir() -> Path:
    """settings.BACKUP_DIR if set, else VAR_DIR/backups."""
    configured = getattr(settings, "BACKUP_DIR", None)
    return Path(configured) if configured else Path(settings.VAR_DIR) / "backups"


def ensure_writable(directory: Path) -> Path:
    """Create the directory and prove a file can be written there, or refuse."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".zx-write-test-"):
            pass
    except OSError as exc:
        raise BackupError("dir_not_writable", _("无法写入备份目录 %(dir)s：%(error)s。请检查目录权限或用 --output 指定其他位置。")
                          % {"dir": directory, "error": exc.strerror or exc}) from exc
    return directory


def default_path(directory: Path, prefix: str = "zhouxin") -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path = directory / f"{prefix}-{stamp}{SUFFIX}"
    n = 2
    while path.exists():
        path = directory / f"{prefix}-{stamp}-{n}{SUFFIX}"
        n += 1
    return path


# --- Canonical content hashes -------------------------------------------------

def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _field_types() -> dict[tuple[str, str], str]:
    """(table, column) → Django internal field type, for every model table (m2m tables included)."""
    types: dict[tuple[str, str], str] = {}
    for model in apps.get_models(include_auto_created=True):
        for f in model._meta.concrete_fields:
            types[(model._meta.db_table, f.column)] = f.get_internal_type()
    return types


def _utc_text(value: dt.datetime) -> str:
    if timezone.is_naive(value):  # SQLite stores UTC without an offset (USE_TZ)
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _decimal_text(value: Any) -> str:
    if isinstance(value, float):
        value = repr(value)
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


def _generic(value: Any) -> Any:
    """A JSON-safe, type-tagged form of a raw database value; plain str/int/bool/None stay as they are."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, Decimal):
        return ["n", _decimal_text(value)]
    if isinstance(value, dt.datetime):
        return ["t", _utc_text(value)]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, dt.time):
        return ["h", value.strftime("%H:%M:%S.%f")]
    if isinstance(value, dt.timedelta):
        return ["i", (value.days * 86400 + value.seconds) * 1_000_000 + value.microseconds]
    if isinstance(value, bytes | bytearray | memoryview):
        return ["b", bytes(value).hex()]
    if isinstance(value, uuid.UUID):
        return ["u", value.hex]
    if isinstance(value, ipaddress.IPv4Address | ipaddress.IPv6Address
                  | ipaddress.IPv4Network | ipaddress.IPv6Network):
        return str(value)
    return ["s", str(value)]


def _canonical(value: Any, kind: str | None) -> Any:
    """The canonical form of one value, led by the Django field type where the column has one,
    so that SQLite's text/number storage and PostgreSQL's typed values come out the same."""
    if value is None or kind is None:
        return _generic(value)
    try:
        if kind == "DecimalField":
            return ["n", _decimal_text(value)]
        if kind == "JSONField":
            data = json.loads(value) if isinstance(value, str | bytes) else value
            return ["j", json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))]
        if kind == "BooleanField" or kind == "NullBooleanField":
            return bool(value)
        if kind == "UUIDField":
            return ["u", uuid.UUID(str(value)).hex]
        if kind == "DurationField" and isinstance(value, int):
            return ["i", value]
        if kind == "GenericIPAddressField":
            return str(ipaddress.ip_address(str(value)))
        if kind == "FloatField" and isinstance(value, int):
            return ["f", repr(float(value))]
        if kind == "DateTimeField" and isinstance(value, str):
            return ["t", _utc_text(dt.datetime.fromisoformat(value))]
    except (ValueError, TypeError, ArithmeticError):
        return ["s", str(value)]
    return _generic(value)


@dataclass
class Inspector:
    """Reads tables, columns and rows through a DB-API cursor: Django's, or a plain sqlite3 one
    opened on a snapshot file (with Django's type converters: detect_types)."""

    vendor: str
    cursor: Callable[[], Any]  # a new cursor for metadata queries
    row_cursor: Callable[[], Any]  # a cursor for reading a whole table (server-side on PostgreSQL)

    def query(self, sql: str, params: Iterable | None = None) -> list[tuple]:
        cur = self.cursor()
        try:
            cur.execute(sql, list(params)) if params is not None else cur.execute(sql)
            return list(cur.fetchall())
        finally:
            cur.close()

    def tables(self) -> list[str]:
        if self.vendor == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
        else:
            rows = self.query("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        return sorted(r[0] for r in rows)

    def columns(self, table: str) -> tuple[list[str], list[str]]:
        """(all column names, primary-key columns as ORDER BY terms, in key order)."""
        if self.vendor == "sqlite":
            info = self.query(f"PRAGMA table_info({_quote(table)})")
            cols = [r[1] for r in info]
            pk = [_quote(r[1]) for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
        else:
            cols = [r[0] for r in self.query(
                "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped",
                [table])]
            # Text keys sort by bytes ("C"), as SQLite's BINARY collation does, whatever the server's locale.
            pk = [_quote(name) + (' COLLATE "C"' if collatable else "") for name, collatable in self.query(
                "SELECT a.attname, a.attcollation <> 0 FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "WHERE n.nspname = current_schema() AND c.relname = %s AND i.indisprimary "
                "ORDER BY array_position(i.indkey::int2[], a.attnum)", [table])]
        return cols, pk

    def digest(self, table: str, types: dict[tuple[str, str], str]) -> dict[str, Any]:
        """Row count and sha256 over the table's rows in primary-key order, columns by name."""
        cols, pk = self.columns(table)
        cols = sorted(cols)
        kinds = [types.get((table, c)) for c in cols]
        order = pk or [_quote(c) for c in cols]
        # bandit B608 reviewed: identifiers come from the database's own catalogue, quoted; no values
        sql = f"SELECT {', '.join(_quote(c) for c in cols)} FROM {_quote(table)} ORDER BY {', '.join(order)}"
        h = hashlib.sha256()
        h.update(json.dumps([table, cols], ensure_ascii=False, separators=(",", ":")).encode())
        h.update(b"\n")
        rows = 0
        cur = self.row_cursor()
        try:
            cur.execute(sql)
            while batch := cur.fetchmany(ROW_BATCH):
                for row in batch:
                    h.update(json.dumps([_canonical(v, k) for v, k in zip(row, kinds, strict=True)],
                                        ensure_ascii=False, separators=(",", ":")).encode())
                    h.update(b"\n")
                rows += len(batch)
        finally:
            cur.close()
        return {"rows": rows, "sha256": h.hexdigest()}

    def digests(self) -> dict[str, dict[str, Any]]:
        types = _field_types()
        return {table: self.digest(table, types) for table in self.tables()}

    def migrations(self) -> dict[str, Any]:
        rows = self.query("SELECT app, name FROM django_migrations ORDER BY id")
        latest: dict[str, str] = {}
        for app, name in rows:
            latest[app] = name
        applied = sorted(f"{app}.{name}" for app, name in rows)
        return {"latest": dict(sorted(latest.items())), "applied": applied}

    def audit_head(self) -> dict[str, Any]:
        from .models import AuditEntry, AuditSeal

        # bandit B608 reviewed (three queries below): table names from the models' _meta, no values
        entries, seals = _quote(AuditEntry._meta.db_table), _quote(AuditSeal._meta.db_table)
        head = self.query(f"SELECT seq, hash FROM {seals} ORDER BY seq DESC LIMIT 1")
        count = self.query(f"SELECT count(*) FROM {entries}")[0][0]
        unsealed = self.query(f"SELECT count(*) FROM {entries} e WHERE NOT EXISTS "
                              f"(SELECT 1 FROM {seals} s WHERE s.entry_id = e.id)")[0][0]
        return {"head_seq": head[0][0] if head else None, "head_hash": head[0][1] if head else "",
                "entries": count, "unsealed": unsealed}


def live_inspector() -> Inspector:
    """The Django connection; run it inside transaction.atomic() for one consistent view."""
    row_cursor = connection.chunked_cursor if connection.vendor == "postgresql" else connection.cursor
    return Inspector(connection.vendor, connection.cursor, row_cursor)


@contextlib.contextmanager
def sqlite_file_inspector(path: Path):
    from django.db.backends.sqlite3._functions import register

    conn = sqlite3.connect(str(path), detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES)
    register(conn)  # the functions Django's connection has (REGEXP in CHECK constraints, …)
    try:
        yield Inspector("sqlite", conn.cursor, conn.cursor), conn
    finally:
        conn.close()


# --- The archive ---------------------------------------------------------------

def _sha256_file(path: Path, limit: int | None = None) -> str:
    h = hashlib.sha256()
    remaining = limit
    with open(path, "rb") as f:
        while True:
            size = CHUNK if remaining is None else min(CHUNK, remaining)
            if size == 0:
                break
            block = f.read(size)
            if not block:
                break
            h.update(block)
            if remaining is not None:
                remaining -= len(block)
    return h.hexdigest()


def sign_manifest(data: bytes, secret: str | None = None) -> str:
    return salted_hmac(HMAC_SALT, data, secret=secret, algorithm="sha256").hexdigest()


def _signature_ok(data: bytes, signature: str) -> bool:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(sign_manifest(data, secret), signature) for secret in secrets)


def manifest_bytes(manifest: dict[str, Any]) -> bytes:
    return json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode()


def _tarinfo(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode, info.uname, info.gname = size, int(mtime), 0o600, "zhouxin", "zhouxin"
    return info


def write_archive(path: Path, manifest: dict[str, Any], dump: Path, *, signature: str | None = None) -> str:
    """Write the archive atomically (a .part file renamed into place); returns its sha256 (the trailer's)."""
    data = manifest_bytes(manifest)
    signature = signature if signature is not None else sign_manifest(data)
    part = path.with_name(path.name + ".part")
    mtime = timezone.now().timestamp()
    try:
        # The file holds the whole database: readable by its owner only.
        with open(os.open(part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
            with tarfile.open(fileobj=f, mode="w", format=tarfile.PAX_FORMAT) as tar:
                tar.addfile(_tarinfo(MANIFEST, len(data), mtime), io.BytesIO(data))
                sig = signature.encode()
                tar.addfile(_tarinfo(SIGNATURE, len(sig), mtime), io.BytesIO(sig))
                with open(dump, "rb") as src:
                    tar.addfile(_tarinfo(manifest["dump"]["name"], dump.stat().st_size, mtime), src)
            f.flush()
            size = f.tell()
        digest = _sha256_file(part, size)
        with open(part, "ab") as f:
            f.write(TRAILER_MAGIC + digest.encode() + b" " + f"{size:020d}".encode() + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(part, path)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    return digest


@dataclass
class Archive:
    """A checked archive: its manifest and where its dump is inside the tar."""

    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]
    dump_name: str
    warnings: list[str] = field(default_factory=list)

    @property
    def vendor(self) -> str:
        return self.manifest["vendor"]

    @property
    def total_rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"].values())

    def extract_dump(self, directory: Path) -> Path:
        target = directory / self.dump_name
        with _open_tar(self) as tar, tar.extractfile(self.dump_name) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, CHUNK)
        if _sha256_file(target) != self.manifest["dump"]["sha256"]:  # changed under our feet
            raise BackupError("dump_hash", _("备份中的数据库转储与清单记录的校验和不符，拒绝恢复。"))
        return target


class _Window(io.RawIOBase):
    """The first `size` bytes of a file (the tar without its trailer)."""

    def __init__(self, f, size: int):
        self.f, self.size, self.pos = f, size, 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self.pos

    def seek(self, offset, whence=0):
        base = {0: 0, 1: self.pos, 2: self.size}[whence]
        self.pos = max(0, min(self.size, base + offset))
        self.f.seek(self.pos)
        return self.pos

    def readinto(self, buffer):
        n = min(len(buffer), self.size - self.pos)
        if n <= 0:
            return 0
        self.f.seek(self.pos)
        data = self.f.read(n)
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


@contextlib.contextmanager
def _open_tar(archive: Archive):
    with open(archive.path, "rb") as f:
        window = io.BufferedReader(_Window(f, archive.size), CHUNK)
        with tarfile.open(fileobj=window, mode="r:") as tar:
            yield tar


def _check_trailer(path: Path) -> tuple[int, str]:
    try:
        total = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(512)
            f.seek(max(0, total - TRAILER_LEN))
            tail = f.read(TRAILER_LEN)
    except OSError as exc:
        raise BackupError("unreadable", _("无法读取备份文件 %(path)s：%(error)s。")
                          % {"path": path, "error": exc.strerror or exc}) from exc
    looks_like_ours = MANIFEST.encode() in head
    match = TRAILER_RE.search(tail)
    if not match:
        if looks_like_ours:
            raise BackupError("truncated", _("备份文件不完整：末尾的校验信息缺失，文件可能被截断（复制或写入未完成）。拒绝使用。"))
        raise BackupError("not_backup", _("这不是轴心的备份文件（没有备份清单和校验信息）。"))
    size = int(match.group(2))
    if size != total - TRAILER_LEN:
        raise BackupError("truncated", _("备份文件长度与校验信息记录的不符：文件可能被截断或拼接。拒绝使用。"))
    digest = _sha256_file(path, size)
    if not hmac.compare_digest(digest, match.group(1).decode()):
        raise BackupError("corrupted", _("备份文件已损坏：校验和（SHA-256）不符，文件内容被改动或传输出错。拒绝使用。"))
    return size, digest


def _disk_migrations() -> set[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return {f"{app}.{name}" for app, name in loader.disk_migrations}


def read_archive(path: str | Path, *, vendor: str | None = None) -> Archive:
    """Check an archive without touching the database: trailer (truncation, corruption), the
    members, the manifest's signature and form, the dump's sha256, the vendor (the current
    database's unless given) and that this code knows every migration the backup has."""
    path = Path(path)
    if not path.is_file():
        raise BackupError("missing", _("找不到备份文件 %(path)s。") % {"path": path})
    size, digest = _check_trailer(path)
    archive = Archive(path=path, sha256=digest, size=size, manifest={}, dump_name="")
    try:
        with _open_tar(archive) as tar:
            members = {m.name: m for m in tar.getmembers()}
            if MANIFEST not in members or SIGNATURE not in members:
                raise BackupError("manifest_missing", _("备份文件中没有备份清单或清单签名。"))
            data = tar.extractfile(MANIFEST).read()
            signature = tar.extractfile(SIGNATURE).read().decode("ascii", "replace").strip()
            if not _signature_ok(data, signature):
                raise BackupError("manifest_signature", _(
                    "备份清单的签名不符：清单被改动过，或备份来自使用另一 SECRET_KEY 的系统。拒绝使用。"))
            try:
                manifest = json.loads(data)
            except ValueError as exc:
                raise BackupError("manifest_invalid", _("备份清单无法解析。")) from exc
            if manifest.get("format") != FORMAT:
                raise BackupError("manifest_invalid", _("备份清单不是轴心的备份格式。"))
            if manifest.get("format_version") != FORMAT_VERSION:
                raise BackupError("format_version", _(
                    "备份格式版本 %(found)s 与本程序支持的版本 %(supported)s 不同，请用相应版本的轴心恢复。")
                    % {"found": manifest.get("format_version"), "supported": FORMAT_VERSION})
            dump_name = (manifest.get("dump") or {}).get("name")
            if manifest.get("vendor") not in DUMP_NAMES or dump_name != DUMP_NAMES[manifest["vendor"]]:
                raise BackupError("manifest_invalid", _("备份清单中的数据库类型或转储文件名无效。"))
            unexpected = set(members) - {MANIFEST, SIGNATURE, dump_name}
            if dump_name not in members or unexpected:
                raise BackupError("members", _("备份文件的内容与清单不符（缺少转储文件或含有多余文件）。"))
            h = hashlib.sha256()
            with tar.extractfile(dump_name) as src:
                while block := src.read(CHUNK):
                    h.update(block)
            if h.hexdigest() != manifest["dump"].get("sha256"):
                raise BackupError("dump_hash", _("备份中的数据库转储与清单记录的校验和不符，拒绝使用。"))
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BackupError("corrupted", _("备份文件已损坏：无法读取其中的归档内容（%(error)s）。") % {"error": exc}) from exc
    archive.manifest, archive.dump_name = manifest, dump_name

    current = vendor or connection.vendor
    if archive.vendor != current:
        raise BackupError("wrong_vendor", _(
            "这是 %(backup)s 数据库的备份，当前数据库是 %(current)s：不支持跨数据库类型恢复。") % {
            "backup": VENDOR_LABELS.get(archive.vendor, archive.vendor),
            "current": VENDOR_LABELS.get(current, current)})
    applied = set(manifest.get("migrations", {}).get("applied", []))
    known = _disk_migrations()
    unknown = sorted(applied - known)
    if unknown:
        raise BackupError("newer_migrations", _(
            "备份来自较新的轴心版本：本程序不认识其中的迁移 %(names)s。请先升级程序再恢复。")
            % {"names": "、".join(unknown[:5]) + ("…" if len(unknown) > 5 else "")})
    missing = sorted(known - applied)
    if missing:
        archive.warnings.append(_("备份早于当前程序：恢复后请运行 manage.py migrate（缺少 %(n)d 个迁移）。")
                                % {"n": len(missing)})
    return archive


def check_dump_content(archive: Archive, dump: Path) -> None:
    """SQLite: the extracted dump is intact and holds exactly what the manifest says."""
    if archive.vendor != "sqlite":
        return
    with sqlite_file_inspector(dump) as (inspector, conn):
        try:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
        except sqlite3.DatabaseError as exc:
            result = str(exc)
        if result != "ok":
            raise BackupError("dump_corrupt", _("备份中的 SQLite 数据库未通过完整性检查：%(result)s") % {"result": result})
        problems = compare(archive.manifest, inspector.digests(), inspector.migrations(), None)
    if problems:
        raise BackupError("dump_mismatch", _("备份内容与清单不符，拒绝恢复：%(problems)s")
                          % {"problems": "；".join(problems[:5])})


def pg_dump_check(archive: Archive, dump: Path) -> None:
    """PostgreSQL: pg_restore can read the dump's table of contents."""
    if archive.vendor != "postgresql":
        return
    result = subprocess.run([pg_tool("pg_restore"), "--list", str(dump)], capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError("dump_corrupt", _("pg_restore 无法读取备份中的转储：%(error)s")
                          % {"error": result.stderr.strip()[:500]})


def verify_archive(path: str | Path) -> Archive:
    """Everything a restore checks before it touches the database (read_archive and the dump itself)."""
    archive = read_archive(path)
    with tempfile.TemporaryDirectory(prefix="zx-verify-") as tmp:
        dump = archive.extract_dump(Path(tmp))
        check_dump_content(archive, dump)
        pg_dump_check(archive, dump)
    return archive


# --- PostgreSQL tools ------------------------------------------------------------

def pg_tool(name: str) -> str:
    """pg_dump, pg_restore or psql: from ZHOUXIN_PG_BINDIR, the PATH, or the newest
    /usr/lib/postgresql/*/bin; refuse with a message when none is installed."""
    bindir = os.environ.get("ZHOUXIN_PG_BINDIR") or getattr(settings, "PG_BINDIR", "")
    candidates = [os.path.join(bindir, name)] if bindir else []
    found = shutil.which(name)
    if found:
        candidates.append(found)

    def version(path: str) -> float:
        try:
            return float(Path(path).parts[-3])
        except (ValueError, IndexError):
            return 0.0

    candidates += sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=version, reverse=True)
    for candidate in candidates:
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    raise BackupError("pg_tool_missing", _(
        "找不到 PostgreSQL 工具 %(tool)s：请安装 postgresql-client（版本不低于数据库服务器），"
        "或用环境变量 ZHOUXIN_PG_BINDIR 指明其所在目录。") % {"tool": name})


def _pg_env() -> tuple[dict[str, str], str]:
    s = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[var] = str(s[key])
    options = s.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                     ("sslkey", "PGSSLKEY"), ("passfile", "PGPASSFILE"), ("service", "PGSERVICE")):
        if options.get(key):
            env[var] = str(options[key])
    env["PGAPPNAME"] = "zhouxin-backup"
    return env, str(s["NAME"] or "")


def _run(args: list[str], env: dict[str, str], what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise BackupError("pg_failed", _("%(what)s 失败（退出码 %(code)d）：%(error)s")
                          % {"what": what, "code": result.returncode, "error": result.stderr.strip()[:2000]})
    return result


# Everything of the application's schema, dropped in the restore's own transaction; extension
# members are left to their extension.
PG_DROP_SCHEMA_OBJECTS = """
DO $zx$
DECLARE
    ns oid := (SELECT oid FROM pg_namespace WHERE nspname = current_schema());
    stmt text;
BEGIN
    FOR stmt IN
        SELECT format('DROP %s IF EXISTS %I.%I CASCADE',
                      CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                                     WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END,
                      current_schema(), c.relname)
        FROM pg_class c
        WHERE c.relnamespace = ns AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                          AND d.objid = c.oid AND d.deptype = 'e')
        ORDER BY c.relkind = 'S'
    LOOP
        EXECUTE stmt;
    END LOOP;
    FOR stmt IN
        SELECT format('DROP %s IF EXISTS %s CASCADE', CASE p.prokind WHEN 'p' THEN 'PROCEDURE' ELSE 'FUNCTION' END,
                      p.oid::regprocedure::text)
        FROM pg_proc p
        WHERE p.pronamespace = ns AND p.prokind IN ('f', 'p')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass
                          AND d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE stmt;
    END LOOP;
    FOR stmt IN
        SELECT format('DROP TYPE IF EXISTS %I.%I CASCADE', current_schema(), t.typname)
        FROM pg_type t
        WHERE t.typnamespace = ns AND t.typtype IN ('e', 'd')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
                          AND d.objid = t.oid AND d.deptype = 'e')
    LOOP
        EXECUTE stmt;
    END LOOP;
END
$zx$;
"""


# --- Backup -----------------------------------------------------------------------

@dataclass
class BackupResult:
    path: Path
    sha256: str
    size: int
    manifest: dict[str, Any]

    @property
    def tables(self) -> int:
        return len(self.manifest["tables"])

    @property
    def rows(self) -> int:
        return sum(t["rows"] for t in self.manifest["tables"].values())


def _who() -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid()) if hasattr(os, "getuid") else ""
    return {"os_user": user, "host": socket.gethostname()}


def _version() -> str:
    try:
        from importlib.metadata import PackageNotFoundError, version
        return version("zhouxin")
    except (ImportError, PackageNotFoundError):
        return ""


def _manifest(vendor: str, inspector: Inspector, dump: Path, server_version: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": timezone.localtime().isoformat(),
        "created_by": _who(),
        "zhouxin_version": _version(),
        "django_version": django.get_version(),
        "vendor": vendor,
        "server_version": server_version,
        "migrations": inspector.migrations(),
        "tables": inspector.digests(),
        "audit": inspector.audit_head(),
        "dump": {"name": DUMP_NAMES[vendor], "sha256": _sha256_file(dump), "size": dump.stat().st_size},
    }


def _snapshot_sqlite(staging: Path) -> dict[str, Any]:
    dump = staging / DUMP_NAMES["sqlite"]
    connection.ensure_connection()
    target = sqlite3.connect(str(dump))
    try:
        connection.connection.backup(target)  # one step: a consistent copy of the live (WAL) database
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
    finally:
        target.close()
    with sqlite_file_inspector(dump) as (inspector, _conn):
        return _manifest("sqlite", inspector, dump, sqlite3.sqlite_version)


def _snapshot_postgresql(staging: Path) -> dict[str, Any]:
    dump = staging / DUMP_NAMES["postgresql"]
    pg_dump = pg_tool("pg_dump")
    env, name = _pg_env()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
        snapshot_id, server_version = cursor.fetchone()
        # pg_dump reads exactly what this transaction sees; the hashes below are taken in it too.
        _run([pg_dump, "--format=custom", "--no-password", f"--snapshot={snapshot_id}",
              f"--file={dump}", f"--dbname={name}"], env, "pg_dump")
        return _manifest("postgresql", live_inspector(), dump, server_version)


def create_backup(*, actor=None, output: str | Path | None = None, prefix: str = "zhouxin") -> BackupResult:
    """Write one verified backup file of the whole database and record it in the audit log.

    Pending audit entries are sealed first so the manifest's chain head is current."""
    from . import audit

    if connection.in_atomic_block:
        raise BackupError("in_transaction", _("备份不能在事务中进行。"))
    if connection.vendor not in DUMP_NAMES:
        raise BackupError("vendor", _("不支持备份 %(vendor)s 数据库。") % {"vendor": connection.vendor})
    if output:
        path = Path(output)
        if path.is_dir():
            path = default_path(ensure_writable(path), prefix)
        else:
            ensure_writable(path.parent)
            if path.exists():
                raise BackupError("exists", _("文件 %(path)s 已存在，不覆盖。请换一个文件名。") % {"path": path})
    else:
        path = default_path(ensure_writable(backup_dir()), prefix)
    if connection.vendor == "postgresql":
        pg_tool("pg_dump")  # refuse before any work when the tool is missing
    audit.seal_all(scope="all")
    with tempfile.TemporaryDirectory(prefix=".zx-backup-", dir=path.parent) as tmp:
        staging = Path(tmp)
        if connection.vendor == "sqlite":
            manifest = _snapshot_sqlite(staging)
        else:
            manifest = _snapshot_postgresql(staging)
        digest = write_archive(path, manifest, staging / manifest["dump"]["name"])
    archive = read_archive(path)  # read back what was written: trailer, signature, dump hash
    result = BackupResult(path=path, sha256=digest, size=path.stat().st_size, manifest=archive.manifest)
    with transaction.atomic():
        audit.record(actor=actor, action=ACTION_CREATED, object_type="core.backup", object_id=path.name[:64],
                     object_repr=_("数据库备份 %(name)s") % {"name": path.name},
                     after={"file": str(path), "sha256": digest, "size": result.size, "vendor": connection.vendor,
                            "tables": result.tables, "rows": result.rows,
                            "audit_head_seq": manifest["audit"]["head_seq"], **manifest["created_by"]})
    return result


# --- Restore ------------------------------------------------------------------------

def compare(manifest: dict[str, Any], digests: dict[str, dict[str, Any]], migrations: dict[str, Any],
            chain: Any) -> list[str]:
    """What differs between the manifest and a database; empty when everything matches."""
    problems = []
    expected = manifest["tables"]
    for table in sorted(set(expected) - set(digests)):
        problems.append(_("缺少表 %(table)s") % {"table": table})
    for table in sorted(set(digests) - set(expected)):
        problems.append(_("多出表 %(table)s") % {"table": table})
    for table in sorted(set(expected) & set(digests)):
        want, got = expected[table], digests[table]
        if want["rows"] != got["rows"]:
            problems.append(_("表 %(table)s 行数 %(got)d，应为 %(want)d")
                            % {"table": table, "got": got["rows"], "want": want["rows"]})
        elif want["sha256"] != got["sha256"]:
            problems.append(_("表 %(table)s 内容摘要不符") % {"table": table})
    if migrations != manifest["migrations"]:
        problems.append(_("迁移状态与备份不符"))
    if chain is not None:
        head = manifest["audit"]
        if not chain.ok:
            problems.append(_("审计链断裂：第 %(seq)d 环，审计记录 #%(id)d：%(reason)s")
                            % {"seq": chain.broken_seq, "id": chain.broken_entry_id, "reason": chain.reason})
        elif (chain.head_seq, chain.head_hash or "") != (head["head_seq"], head["head_hash"]):
            problems.append(_("审计链头（第 %(got)s 环）与备份记录的（第 %(want)s 环）不符")
                            % {"got": chain.head_seq, "want": head["head_seq"]})
    return problems


def verify_database(manifest: dict[str, Any]) -> list[str]:
    """Row counts, content hashes, migration state and the audit chain of the live database
    against a manifest."""
    from . import audit

    with transaction.atomic():
        inspector = live_inspector()
        digests, migrations = inspector.digests(), inspector.migrations()
        chain = audit.verify_chain()
    return compare(manifest, digests, migrations, chain)


def _restore_sqlite(dump: Path) -> None:
    connection.close()
    connection.ensure_connection()
    source = sqlite3.connect(str(dump))
    try:
        source.backup(connection.connection)  # page by page into the live file, under its write lock
    except sqlite3.Error as exc:
        raise BackupError("restore_failed", _("恢复 SQLite 数据库失败：%(error)s") % {"error": exc}) from exc
    finally:
        source.close()
        connection.close()


def _restore_postgresql(dump: Path) -> None:
    """Drop the schema's objects and recreate them from the dump, in one psql transaction.

    pg_restore's script is relayed to psql here rather than through a plain pipe: if pg_restore
    fails half-way, psql is killed before it reads the end of its input, so it never commits a
    partial restore; the server rolls the transaction back and the database is as it was."""
    pg_restore, psql = pg_tool("pg_restore"), pg_tool("psql")
    env, name = _pg_env()
    connection.close()
    with tempfile.TemporaryFile() as restore_errors, tempfile.TemporaryFile() as psql_errors:
        script = subprocess.Popen([pg_restore, "--no-owner", "--no-privileges", "--file=-", str(dump)],
                                  stdout=subprocess.PIPE, stderr=restore_errors, env=env)
        loader = subprocess.Popen(
            [psql, "-X", "-q", "--no-password", "--single-transaction", "-v", "ON_ERROR_STOP=1",
             f"--dbname={name}", "-c", PG_DROP_SCHEMA_OBJECTS, "-f", "-"],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors, env=env)
        try:
            while block := script.stdout.read(CHUNK):
                loader.stdin.write(block)
        except BrokenPipeError:  # psql stopped at an error: its transaction is rolled back
            script.kill()
        script.stdout.close()
        code = script.wait()
        if code != 0:
            loader.kill()
        with contextlib.suppress(BrokenPipeError):
            loader.stdin.close()
        loaded = loader.wait()
        restore_errors.seek(0)
        psql_errors.seek(0)
        errors = restore_errors.read().decode(errors="replace").strip()
        loader_errors = psql_errors.read().decode(errors="replace").strip()
    if loaded != 0 and code in (0, -signal.SIGKILL):
        raise BackupError("pg_failed", _("psql 恢复失败（退出码 %(code)d），事务已回滚，数据库未改动：%(error)s")
                          % {"code": loaded, "error": loader_errors[:2000]})
    if code != 0:
        raise BackupError("pg_failed", _("pg_restore 失败（退出码 %(code)d），事务已回滚，数据库未改动：%(error)s")
                          % {"code": code, "error": errors[:2000]})


def _invalidate_caches() -> None:
    from django.contrib.contenttypes.models import ContentType

    from . import policy, workdays

    ContentType.objects.clear_cache()
    policy.invalidate()
    workdays.invalidate()


@dataclass
class RestoreResult:
    archive: Archive
    problems: list[str]
    safety_copy: Path | None

    @property
    def ok(self) -> bool:
        return not self.problems


def restore_backup(*, actor=None, archive: Archive, safety_copy: bool = True,
                   on_progress: Callable[[str], None] = lambda message: None) -> RestoreResult:
    """Replace the database with a verified archive (read_archive), then verify the result.

    Before anything is touched the dump is checked again (SQLite: integrity and content
    against the manifest; PostgreSQL: pg_restore can read it) and, unless disabled, a
    safety copy of the current database is written.  After the restore the row counts,
    content hashes, migration state and audit chain are compared with the manifest; the
    restore is recorded in the restored database's audit log, with result "failed" when
    the comparison found differences."""
    from . import audit
    from .choices import AuditResult

    if connection.in_atomic_block:
        raise BackupError("in_transaction", _("恢复不能在事务中进行。"))
    if archive.vendor != connection.vendor:
        raise BackupError("wrong_vendor", _("备份的数据库类型与当前数据库不同。"))
    copy_path = None
    work_dir = backup_dir()
    with contextlib.suppress(BackupError):
        work_dir = ensure_writable(work_dir)
    with tempfile.TemporaryDirectory(prefix=".zx-restore-",
                                     dir=work_dir if os.access(work_dir, os.W_OK) else None) as tmp:
        dump = archive.extract_dump(Path(tmp))
        check_dump_content(archive, dump)
        pg_dump_check(archive, dump)
        if safety_copy:
            on_progress(_("正在为当前数据库写安全副本……"))
            copy_path = create_backup(actor=actor, prefix="zhouxin-pre-restore").path
            on_progress(_("安全副本：%(path)s") % {"path": copy_path})
        on_progress(_("正在恢复数据库……"))
        if archive.vendor == "sqlite":
            _restore_sqlite(dump)
        else:
            _restore_postgresql(dump)
    _invalidate_caches()
    on_progress(_("正在校验恢复结果……"))
    problems = verify_database(archive.manifest)
    with transaction.atomic():
        audit.record(actor=actor, action=ACTION_RESTORED, object_type="core.backup",
                     object_id=archive.path.name[:64],
                     object_repr=_("从备份 %(name)s 恢复") % {"name": archive.path.name},
                     result=AuditResult.FAILED if problems else AuditResult.OK,
                     after={"file": str(archive.path), "sha256": archive.sha256,
                            "backup_created_at": archive.manifest["created_at"],
                            "tables": len(archive.manifest["tables"]), "rows": archive.total_rows,
                            "safety_copy": str(copy_path) if copy_path else None,
                            "problems": problems[:20], **_who()})
    audit.seal_all(scope="all")
    return RestoreResult(archive=archive, problems=problems, safety_copy=copy_path)
