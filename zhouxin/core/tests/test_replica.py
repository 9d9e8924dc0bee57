"""The read-replica router (zhouxin/core/db_router.py).

1. The rules, everywhere (SQLite included): a "replica" alias added at run time that opens the
   test database a second time stands in for the standby.
2. Against a real streaming standby, where the database is PostgreSQL and its server binaries are
   installed: the test starts its own primary (the shared server on 5432 refuses replication
   connections), migrates it, clones it with pg_basebackup -R, starts the standby, and runs
   zhouxin/testing/replica_probe.py in a child process pointed at both.  The probe pauses WAL
   replay on the standby to show that reads inside replica_reads() really hit it (they miss a
   row only the primary has), that writes and reads in a transaction stay on the primary, that
   the analytics dashboard's figures come from the standby, and that the oversight report reads
   there and writes its row and files on the primary.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.utils import load_backend
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from zhouxin.core import db_router
from zhouxin.core.db_router import REPLICA, ReplicaRouter, replica_reads
from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.choices import AreaLevel
from zhouxin.orgs.models import Area
from zhouxin.testing.clients import verified_client

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def replica(monkeypatch):
    """A "replica" connection that opens the test database a second time (what MIRROR does under
    the test runner).  It is registered on the connection handler only, not in its settings:
    Django's test case refuses connections to configured aliases it was not told about, so the
    router's "is there a replica" check is patched to say yes."""
    settings_dict = {**connections["default"].settings_dict, "TEST": {"MIRROR": "default"}}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, alias=REPLICA)
    connections[REPLICA] = wrapper
    monkeypatch.setattr(db_router, "replica_configured", lambda: True)
    try:
        yield wrapper
    finally:
        wrapper.close()
        del connections[REPLICA]


def test_settings_route_through_the_router_and_add_the_replica_only_when_asked():
    assert settings.DATABASE_ROUTERS == ["zhouxin.core.db_router.ReplicaRouter"]
    code = ("from django.conf import settings as s; r = s.DATABASES.get('replica');"
            "print(r and (r['ENGINE'], r['HOST'], r['PORT'], r['NAME'], r['TEST']['MIRROR']))")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(DJANGO_SETTINGS_MODULE="zhouxin.settings", DATABASE_URL="postgres://u@db1:5432/zx",
               DATABASE_REPLICA_URL="postgres://u@db2:5433/zx")
    with_replica = subprocess.run([sys.executable, "-c", "import django; django.setup();" + code], cwd=ROOT,
                                  env=env, capture_output=True, text=True, timeout=60)
    assert with_replica.stdout.strip() == (
        "('zhouxin.core.pgbackend', 'db2', 5433, 'zx', 'default')"), with_replica.stderr[-2000:]
    env.pop("DATABASE_REPLICA_URL")
    without = subprocess.run([sys.executable, "-c", "import django; django.setup();" + code], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=60)
    assert without.stdout.strip() == "None", without.stderr[-2000:]


@pytest.mark.django_db
def test_without_a_replica_everything_stays_on_default():
    assert REPLICA not in connections.settings
    with replica_reads():
        assert Area.objects.unscoped().all().db == "default"
        assert not db_router.reading_from_replica()


@pytest.mark.django_db(transaction=True)
def test_reads_go_to_the_replica_only_inside_replica_reads(replica):
    assert Area.objects.unscoped().all().db == "default"
    with replica_reads():
        assert Area.objects.unscoped().all().db == "replica"
        with replica_reads():  # nested
            assert Area.objects.unscoped().all().db == "replica"
        assert Area.objects.unscoped().all().db == "replica"
        # Inside a transaction on default reads stay there: the service reads what it wrote.
        with transaction.atomic():
            assert Area.objects.unscoped().all().db == "default"
        assert Area.objects.unscoped().all().db == "replica"
    assert Area.objects.unscoped().all().db == "default"
    with pytest.raises(RuntimeError), replica_reads():
        raise RuntimeError("boom")
    assert Area.objects.unscoped().all().db == "default"  # restored after the exception


@pytest.mark.django_db(transaction=True)
def test_writes_inside_replica_reads_go_to_default(replica):
    with replica_reads(), scopes_disabled():
        area = Area.objects.unscoped().create(code="9901", name="写入测试", level=AreaLevel.CITY)
        assert area._state.db == "default"
        area.name = "改名"
        area.save()
        assert Area.objects.unscoped().get(pk=area.pk).name == "改名"  # read on the replica alias
    assert ReplicaRouter().db_for_write(Area) == "default"


def test_decorator_forms_and_relations_and_migrations():
    seen = []

    @replica_reads
    def bare(x):
        seen.append(db_router._replica_allowed.get())
        return x * 2

    @replica_reads()
    def called():
        seen.append(db_router._replica_allowed.get())
        return "done"

    assert bare(2) == 4 and called() == "done" and bare.__name__ == "bare"
    assert seen == [True, True] and db_router._replica_allowed.get() is False
    router = ReplicaRouter()
    assert router.allow_relation(object(), object()) is True
    assert router.allow_migrate("default", "orgs") is True
    assert router.allow_migrate("replica", "orgs") is False


@pytest.mark.django_db(transaction=True)
def test_the_dashboard_reads_its_figures_on_the_replica(personas, replica):
    client = verified_client(personas, "district_admin")
    url = reverse("analytics:dashboard") + f"?area={personas.areas['street_a'].code}"
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connection) as on_default:
        response = client.get(url)
    assert response.status_code == 200
    assert "多福巷社区" in response.content.decode()
    replica_sql = [q["sql"] for q in on_replica.captured_queries]
    default_sql = [q["sql"] for q in on_default.captured_queries]
    assert any("dispatch_rollup" in q for q in replica_sql), replica_sql
    assert not any("dispatch_rollup" in q for q in default_sql), default_sql
    assert any("django_session" in q for q in default_sql)  # the session: middleware, on default


@pytest.mark.django_db(transaction=True)
def test_the_orgs_export_reads_on_the_replica_and_audits_on_default(personas, replica):
    client = verified_client(personas, "district_admin")
    with CaptureQueriesContext(replica) as on_replica, CaptureQueriesContext(connection) as on_default:
        response = client.get(reverse("orgs:export_organisations"))
    assert response.status_code == 200
    replica_sql = [q["sql"] for q in on_replica.captured_queries]
    default_sql = [q["sql"] for q in on_default.captured_queries]
    assert any("orgs_organisation" in q for q in replica_sql), replica_sql
    assert not any("orgs_organisation" in q and "SELECT" in q for q in default_sql), default_sql
    assert any("INSERT" in q and "core_auditentry" in q for q in default_sql)
    assert not any(q.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for q in replica_sql)


# --- a real streaming standby ---------------------------------------------------------------

def _pg_bin() -> Path | None:
    needed = ("initdb", "pg_ctl", "pg_basebackup")
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if all((Path(bindir) / name).exists() for name in needed):
            return Path(bindir)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(primary: str, standby: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_SETTINGS"))}
    env.update({"ZHOUXIN_TESTING": "1", "DJANGO_SETTINGS_MODULE": "zhouxin.settings", "LOG_LEVEL": "CRITICAL",
                "DATABASE_URL": primary, "DATABASE_REPLICA_URL": standby})
    return env


def _run(argv, **kwargs):
    done = subprocess.run(argv, capture_output=True, text=True, timeout=kwargs.pop("timeout", 60), **kwargs)
    assert done.returncode == 0, (argv, done.stdout[-2000:], done.stderr[-3000:])
    return done


@pytest.fixture
def streaming_pair():
    """(primary URL, standby URL) of a private primary and its streaming standby on 127.0.0.1."""
    if connection.vendor != "postgresql":
        pytest.skip("the streaming-replica test needs PostgreSQL (run with DATABASE_URL=postgres://…)")
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup under /usr/lib/postgresql/*/bin) "
                    "are not installed")
    as_user: list[str] = []
    workdir = Path(tempfile.mkdtemp(prefix="zx-replica-"))
    if os.geteuid() == 0:  # the server refuses to run as root
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: cannot start PostgreSQL as the postgres account")
        try:
            shutil.chown(workdir, "postgres")
        except (LookupError, PermissionError):
            pytest.skip("running as root and there is no postgres account to run PostgreSQL as")
        as_user = [shutil.which("runuser"), "-u", "postgres", "--"]
    primary, standby = workdir / "primary", workdir / "standby"
    ports = {primary: _free_port(), standby: _free_port()}
    started: list[Path] = []

    def pg_ctl(data: Path, *args: str):
        return [*as_user, str(bindir / "pg_ctl"), "-D", str(data), *args]

    def start(data: Path):
        options = f"-p {ports[data]} -k {workdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        started.append(data)
        _run(pg_ctl(data, "-w", "-t", "30", "-o", options, "-l", str(workdir / f"{data.name}.log"), "start"))

    try:
        _run([*as_user, str(bindir / "initdb"), "-D", str(primary), "-A", "trust", "-U", "postgres", "--no-sync",
              "-E", "UTF8", "--locale=C.UTF-8"])
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write("\nwal_level = replica\nmax_wal_senders = 4\nhot_standby = on\n")
        with open(primary / "pg_hba.conf", "a") as hba:
            hba.write("\nhost replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n")
        start(primary)
        primary_url = f"postgres://postgres@127.0.0.1:{ports[primary]}/postgres"
        # The schema before the clone: the standby starts with it and only streams what follows.
        _run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT,
             env=_child_env(primary_url, ""), timeout=180)
        _run([*as_user, str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports[primary]), "-U", "postgres",
              "-D", str(standby), "-R", "-X", "stream", "--checkpoint=fast", "--no-sync"], timeout=120)
        start(standby)  # pg_ctl -w returns once the standby accepts read-only connections
        yield primary_url, f"postgres://postgres@127.0.0.1:{ports[standby]}/postgres"
    finally:
        for data in reversed(started):
            subprocess.run(pg_ctl(data, "-m", "immediate", "stop"), capture_output=True, timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)


def test_reads_inside_replica_reads_hit_a_real_streaming_standby(streaming_pair):
    primary_url, standby_url = streaming_pair
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "zhouxin.testing.replica_probe"], cwd=ROOT,
                          env=_child_env(primary_url, standby_url), capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    passed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("ok ")]
    assert passed == ["two", "routing", "paused", "dashboard", "resumed", "report"], done.stdout
    assert time.monotonic() - began < 120
