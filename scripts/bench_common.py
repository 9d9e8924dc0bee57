"""Shared set-up of the benchmarks (bench_intake.py, bench_rankings.py, bench_dashboard.py, bench_lists.py,
bench_matching.py).

A fresh PostgreSQL database (default zhouxin_bench on the local server, never a test
database) with the demo district, the catalogue and Dongcheng's routing rules, and a
short description of the machine for docs/performance.md.

Served measurements: serve() runs gunicorn (DEBUG off) on loopback, signed_in_session() makes a
session cookie of a user signed in with the second factor, load() is the load generator (asyncio,
HTTP/1.1 keep-alive connections, no extra package).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def database_url(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def env_for(url: str, **extra) -> dict:
    env = dict(os.environ)
    env.update({"DATABASE_URL": url, "ZHOUXIN_DEMO": "1", "DEBUG": "0", "DJANGO_SETTINGS_MODULE": "zhouxin.settings"})
    env.pop("ZHOUXIN_TESTING", None)
    env.update(extra)
    return env


def recreate_database(server: str, name: str) -> str:
    if name.startswith("test_") or not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing to use database {name!r}")
    import psycopg

    with psycopg.connect(database_url(server, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return database_url(server, name)


def manage(url: str, *args: str, quiet: bool = True) -> float:
    started = time.perf_counter()
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env_for(url), check=True,
                   stdout=subprocess.DEVNULL if quiet else None)
    return time.perf_counter() - started


def prepare_demo(url: str) -> dict:
    """Migrate and load the demo district with its catalogue and routing (timed)."""
    timings = {}
    timings["migrate"] = manage(url, "migrate", "--noinput", "-v0")
    timings["calendar_seed"] = manage(url, "calendar_seed")
    timings["seed_catalogue"] = manage(url, "seed_catalogue")
    timings["load_demo"] = manage(url, "load_demo")
    timings["routing"] = manage(url, "seed_catalogue", "--routing-district", "110101")
    timings["analyze"] = analyze(url)
    return timings


def analyze(url: str, *, vacuum: bool = False) -> float:
    """ANALYZE the whole database: the planner's statistics, which autovacuum keeps in production
    (vacuum=True: VACUUM ANALYZE, so that a reused database does not carry the dead rows of the
    last run's updates into the next one, which autovacuum would have cleared as well).

    This machine's PostgreSQL runs with autovacuum off, so a freshly loaded database has none,
    and the planner then guesses: measured, the audit sealer's probe for unsealed entries took
    54 ms as a merge join over every seal instead of 0.7 ms by index, and ran twice a second in
    every web process during the intake benchmark."""
    import psycopg

    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    return round(time.perf_counter() - started, 2)


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.0f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psycopg

        with psycopg.connect(database_url(DEFAULT_SERVER, "postgres")) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
            pg += f" (autovacuum {conn.execute('SHOW autovacuum').fetchone()[0]})"
    except Exception:  # noqa: BLE001 — only a description
        pg = "?"
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0
    return (f"{os.cpu_count()} vCPUs ({cpu}), {mem}, Linux {platform.release()}, Python "
            f"{sys.version.split()[0]}, PostgreSQL {pg} on 127.0.0.1; load average at start {load:.1f}")


def percentile(sorted_values: list[float], p: float) -> float:
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(p / 100 * (len(sorted_values) - 1))))
    return sorted_values[k]


# --- In-process measurements: Django's test Client through the whole middleware stack ----------------------

def signed_in_client(username: str):
    """A django.test.Client signed in as `username` with its confirmed second factor verified."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zhouxin.core.models import User

    user = User.objects.get(username=username)
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def measure_in_process(client, url: str, repeat: int, expect: str | None = None) -> dict:
    """One warm-up GET (200, holding `expect` when given), one GET counting the queries on every
    database alias, then `repeat` timed GETs: {"queries", "p50_ms", "p95_ms"}."""
    import statistics

    from django.db import connections
    from django.test.utils import CaptureQueriesContext

    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code)
    if expect is not None:
        assert expect in first.content.decode(), (url, expect)
    with contextlib.ExitStack() as stack:
        captures = [stack.enter_context(CaptureQueriesContext(connections[alias])) for alias in connections]
        client.get(url)
    # Counted now: every later request resets the connection's query log (request_started).
    queries = sum(len(c.captured_queries) for c in captures)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return {"queries": queries,
            "p50_ms": round(statistics.median(times) * 1000, 1),
            "p95_ms": round(percentile(times, 95) * 1000, 1)}


# --- Served measurements: gunicorn on loopback, a signed-in session, an asyncio load generator ---------------

SERVER_HOST = "127.0.0.1"


@dataclass
class Server:
    """A running gunicorn (see serve()): where it listens and how it is set up."""

    host: str
    port: int
    workers: int
    threads: int
    process: subprocess.Popen

    def describe(self) -> str:
        return (f"gunicorn zhouxin.wsgi ({self.workers} workers × {self.threads} threads, "
                f"{worker_class(self.threads)}, DEBUG off) "
                f"on {self.host}:{self.port}")


class CpuMeter:
    """CPU time (user + system, from /proc) of the processes behind a served measurement, in groups:
    the gunicorn master and its workers, every PostgreSQL process, extra processes (e.g. the intake
    worker) and this load generator.  Throughput on a shared machine drifts with its neighbours; the
    CPU a request costs each part hardly does, so it shows what a change saved.  Linux only
    (available is False elsewhere, and every figure is then empty)."""

    TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __init__(self, server: Server, **extra: subprocess.Popen | None):
        self.available = Path("/proc/self/stat").exists()
        self.server = server
        self.extra = {name: process for name, process in extra.items() if process is not None}

    @staticmethod
    def _stat(pid: int) -> tuple[str, int, float] | None:
        try:
            text = Path(f"/proc/{pid}/stat").read_text()
        except OSError:  # gone meanwhile
            return None
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        # fields[1] is the parent's pid; [11] and [12] are utime and stime (man 5 proc).
        return name, int(fields[1]), (int(fields[11]) + int(fields[12])) / CpuMeter.TICK

    def snapshot(self) -> dict[str, dict[int, float]]:
        """Seconds of CPU so far of each group's processes, by pid."""
        if not self.available:
            return {}
        stats = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (stat := self._stat(int(entry.name))) is not None:
                stats[int(entry.name)] = stat
        web = {self.server.process.pid} | {pid for pid, (_n, parent, _c) in stats.items()
                                            if parent == self.server.process.pid}
        groups = {"gunicorn": {pid: stats[pid][2] for pid in web if pid in stats},
                  "postgres": {pid: cpu for pid, (name, _p, cpu) in stats.items() if name.startswith("postgres")}}
        for name, process in self.extra.items():
            groups[name] = {process.pid: stats[process.pid][2]} if process.pid in stats else {}
        groups["load generator"] = {os.getpid(): stats[os.getpid()][2]} if os.getpid() in stats else {}
        return groups

    @staticmethod
    def used(before: dict, after: dict) -> dict[str, float]:
        """Seconds of CPU each group used between two snapshots: processes started meanwhile count
        from zero; one that ended meanwhile (a closed database connection) is not counted."""
        return {name: sum(cpu - before.get(name, {}).get(pid, 0.0) for pid, cpu in pids.items())
                for name, pids in after.items()}

    @staticmethod
    def per_request(seconds: dict[str, float], requests: int) -> dict[str, float]:
        """Milliseconds of CPU per request of each group (from used()), and their total."""
        if not seconds or not requests:
            return {}
        each = {name: round(cpu * 1000 / requests, 2) for name, cpu in seconds.items()}
        return each | {"all": round(sum(each.values()), 2)}


def free_port(host: str = SERVER_HOST) -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _port_taken(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


@contextlib.contextmanager
def serve(url: str, *, workers: int = 4, threads: int = 1, port: int = 0, host: str = SERVER_HOST,
          ready_path: str = "/healthz/live", timeout: float = 60, **env):
    """gunicorn (`.venv/bin/gunicorn zhouxin.wsgi:application`, DEBUG=0, the demo on, database `url`,
    `env` added to the environment, e.g. ZHOUXIN_BENCH="1") on host:port — port 0: a free one; a port
    something else already answers on is refused, so a benchmark never measures another server.
    Yields a Server once `ready_path` answers 200; stops gunicorn (TERM, then KILL) on the way out."""
    port = port or free_port(host)
    if _port_taken(host, port):
        raise SystemExit(f"port {port} on {host} is already in use: choose another with --port")
    process = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "gunicorn"), "zhouxin.wsgi:application", "--bind", f"{host}:{port}",
         "--workers", str(workers), "--threads", str(threads), "--worker-class", worker_class(threads),
         "--keep-alive", "30", "--log-level", "warning"],
        cwd=ROOT, env=env_for(url, **({"WEB_CONCURRENCY": str(workers)} | {k: str(v) for k, v in env.items()})))
    try:
        _wait_ready(process, host, port, ready_path, timeout)
        yield Server(host, port, workers, threads, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def worker_class(threads: int) -> str:
    """One thread a worker: gunicorn's sync worker, which takes a connection only when it is free
    (so requests spread over every worker); more: gthread, whose keep-alive connections stay with
    the worker that accepted them (several clients can then queue on one process and its GIL)."""
    return "sync" if threads == 1 else "gthread"


def _wait_ready(process: subprocess.Popen, host: str, port: int, path: str, timeout: float) -> None:
    import http.client

    deadline = time.time() + timeout
    last = "no answer"
    while time.time() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with code {process.returncode} before it answered")
        try:
            conn = http.client.HTTPConnection(host, port, timeout=5)
            conn.request("GET", path)
            status = conn.getresponse().status
            conn.close()
            if status == 200:
                return
            last = f"HTTP {status}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.3)
    raise SystemExit(f"gunicorn did not answer {path} on {host}:{port} within {timeout:.0f} s ({last})")


def signed_in_session(username: str, url: str | None = None) -> str:
    """A session cookie ("name=key") for `username`, written straight into the database as a sign-in
    with the second factor would leave it: the auth keys, django_otp's device key for the user's
    confirmed TOTP device, the session-timeout marks (zhouxin/core/middleware.py) and the UserSession
    row (zhouxin/core/signals.py; no audit entry: this is no real sign-in).

    Needs Django set up on the benchmark's database; if it is not yet, `url` sets it up (DEBUG off)."""
    from django.conf import settings

    if not settings.configured:
        if url is None:
            raise RuntimeError("signed_in_session needs Django set up, or the database url")
        os.environ.update(env_for(url))
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        import django

        django.setup()
    from importlib import import_module

    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, load_backend
    from django.utils import timezone
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from zhouxin.core.middleware import SESSION_LOGIN_AT, SESSION_SEEN_AT
    from zhouxin.core.models import User, UserSession
    from zhouxin.core.scoping import scopes_disabled

    with scopes_disabled():
        user = User.objects.get(username=username)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
    if user.needs_two_factor and device is None:
        raise SystemExit(f"{username} needs a second factor and has no confirmed TOTP device")
    # As Client.force_login: the first backend that can load a user back from the session.
    backend = next(path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user"))
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = user._meta.pk.value_to_string(user)
    store[BACKEND_SESSION_KEY] = backend
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    if device is not None:
        store[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = timezone.now().timestamp()
    store[SESSION_LOGIN_AT] = now
    store[SESSION_SEEN_AT] = now
    store.save()
    UserSession.objects.get_or_create(session_key=store.session_key, defaults={"user": user})
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


class HttpError(Exception):
    pass


async def http_request(reader, writer, host: str, port: int, method: str, path: str, *,
                       headers: dict | None = None, body: bytes = b"") -> tuple[int, bytes, bool]:
    """One HTTP/1.1 request on a keep-alive connection: (status, body, the server closes)."""
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}:{port}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method not in ("GET", "HEAD"):
        lines.append(f"Content-Length: {len(body)}")
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    await writer.drain()
    status_line = await reader.readline()
    if not status_line:
        raise HttpError("the server closed the connection")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        raise HttpError(f"bad status line {status_line[:80]!r}") from None
    length, chunked, close = None, False, status_line.startswith(b"HTTP/1.0")
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == "content-length":
            length = int(value)
        elif name == "transfer-encoding" and "chunked" in value:
            chunked = True
        elif name == "connection":
            close = value == "close"
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        payload = b""
    elif chunked:
        parts = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                    pass
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        payload = b"".join(parts)
    elif length is not None:
        payload = await reader.readexactly(length)
    else:
        payload = await reader.read()
        close = True
    return status, payload, close


def load(host: str, port: int, paths: list[str], *, clients: int = 4, seconds: float = 5.0, warmup: float = 0.0,
         cookie: str | None = None, headers: dict | None = None, expect=None, method: str = "GET",
         body_for=None, ok: tuple[int, ...] = (200,), request_timeout: float = 60.0,
         keep_latencies: bool = False) -> dict:
    """Load host:port with `clients` keep-alive HTTP/1.1 connections for `seconds` (after `warmup`
    seconds not counted), each sending its next request as soon as the previous answer arrived, over
    `paths` in turn (each client starting elsewhere in the list).

    A status in `ok` (200) whose body holds `expect` (text; or a function (path, body) → bool) is a
    success; any other answer, a broken connection or a request over `request_timeout` is an error.
    `body_for(n) → bytes` gives request n's body (for POST).  Returns requests (successes), errors,
    seconds, rps, p50/p95/p99 ms and a few sample errors (and, with `keep_latencies`, every
    successful request's latency in seconds, sorted, to pool several runs)."""
    head = dict(headers or {})
    if cookie:
        head["Cookie"] = cookie
    if isinstance(expect, str):
        needle = expect.encode()

        def check(path, body):
            return needle in body
    else:
        check = expect

    async def client(index: int, deadline: float, record: bool, latencies: list, errors: list, counter: list):
        reader = writer = None
        turn = index
        try:
            while time.perf_counter() < deadline:
                path = paths[turn % len(paths)]
                turn += 1
                counter[0] += 1
                body = body_for(counter[0]) if body_for else b""
                started = time.perf_counter()
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    status, payload, close = await asyncio.wait_for(
                        http_request(reader, writer, host, port, method, path, headers=head, body=body),
                        request_timeout)
                except (TimeoutError, OSError, HttpError, asyncio.IncompleteReadError, ValueError) as exc:
                    if record:
                        errors.append(f"{path}: {type(exc).__name__} {exc}"[:300])
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    await asyncio.sleep(0.05)
                    continue
                elapsed = time.perf_counter() - started
                if record:
                    if status in ok and (check is None or check(path, payload)):
                        latencies.append(elapsed)
                    elif status in ok:
                        errors.append(f"{path}: HTTP {status} without the expected content: {payload[:160]!r}")
                    else:
                        errors.append(f"{path}: HTTP {status} {payload[:160]!r}")
                if close:
                    writer.close()
                    reader = writer = None
        finally:
            if writer is not None:
                writer.close()

    async def phase(length: float, record: bool) -> tuple[list, list, float]:
        latencies: list[float] = []
        errors: list[str] = []
        counter = [0]
        started = time.perf_counter()
        await asyncio.gather(*(client(i, started + length, record, latencies, errors, counter)
                               for i in range(clients)))
        return latencies, errors, time.perf_counter() - started

    async def run():
        if warmup > 0:
            await phase(warmup, record=False)
        return await phase(seconds, record=True)

    latencies, errors, elapsed = asyncio.run(run())
    latencies.sort()
    return {
        "requests": len(latencies), "errors": len(errors), "seconds": round(elapsed, 2),
        "rps": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1),
        "p95_ms": round(percentile(latencies, 95) * 1000, 1),
        "p99_ms": round(percentile(latencies, 99) * 1000, 1),
        "sample_errors": errors[:5],
    } | ({"latencies": latencies} if keep_latencies else {})


def served_setup(server: Server, clients: int, seconds: float, warmup: float) -> str:
    """How the served figures were taken, for the Markdown outputs."""
    return (f"Served: {server.describe()}; load generator: asyncio HTTP/1.1 client on the same machine "
            f"(loopback), {clients} keep-alive connections, each sending its next GET as soon as the previous "
            f"answer arrived, {seconds:g} s per page after {warmup:g} s of warm-up, signed in with the second "
            "factor verified; only a 200 with the page's own content counts, anything else is an error.")


def add_serve_arguments(parser, *, clients: int = 4, seconds: float = 5.0, warmup: float = 1.0) -> None:
    """--workers/--threads/--clients/--seconds/--warmup/--port of the served measurement."""
    group = parser.add_argument_group("served measurement (gunicorn on loopback + asyncio load generator)")
    # One request at a time per process, as many processes as twice the cores: with gthread, the
    # load generator's keep-alive connections pile up on whichever worker accepted them first
    # (measured: the queue's 25-row page p50 150 ms with 2 × 4 threads, 74 ms with 4 × 1).
    group.add_argument("--workers", type=int, default=4, help="gunicorn workers (default 4)")
    group.add_argument("--threads", type=int, default=1, help="threads per worker (default 1: the sync worker)")
    group.add_argument("--clients", type=int, default=clients,
                       help=f"concurrent keep-alive connections (default {clients})")
    group.add_argument("--seconds", type=float, default=seconds, help=f"measured seconds per page (default {seconds:g})")
    group.add_argument("--warmup", type=float, default=warmup, help=f"unmeasured seconds per page first (default {warmup:g})")
    group.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
