#!/usr/bin/env bash
# Starts the task worker, the audit sealer and the web server together; Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-8000}
PY=.venv/bin/python

$PY manage.py db_worker --queue-name '*' --no-reload &
WORKER=$!
# The audit sealer links audit entries that the writers' own after-commit attempts left.
$PY manage.py audit_seal --loop 2 &
SEALER=$!
# The SLA sweeper warns requests at 80 % of their time, escalates overdue ones once, and flags
# whistle summonses that missed their report deadline.
$PY manage.py sla_sweep --loop 60 &
SWEEPER=$!
# The intake worker routes requests that intake stored as pending (ZHOUXIN_INTAKE_DEFERRED=1);
# otherwise intake routes them itself and this loop finds nothing to do.
$PY manage.py intake_worker --loop 0.2 &
INTAKER=$!
# Joint-conference action items past their due date are marked overdue and reported to the street once.
$PY manage.py conference_sweep --loop 300 &
CONFSWEEP=$!
# 双报到 reminders: registrations ending soon (renew) and the yearly deadline, each texted once.
$PY manage.py volunteer_reminders --loop 3600 &
VOLREMIND=$!
# Housekeeping deletes finished rate-limit windows and expired sessions.
$PY manage.py housekeeping --loop 300 &
KEEPER=$!
# Published-content integrity: the template and static files as deployed are the baseline; the
# monitor re-renders every public page as a browser and as search engines every 10 minutes.
$PY manage.py integrity_baseline
$PY manage.py verify_published --loop "${VERIFY_SECONDS:-600}" &
VERIFIER=$!
trap 'kill $WORKER $SEALER $SWEEPER $INTAKER $KEEPER $VERIFIER $CONFSWEEP $VOLREMIND 2>/dev/null || true; wait $WORKER $SEALER $SWEEPER $INTAKER $KEEPER $VERIFIER $CONFSWEEP $VOLREMIND 2>/dev/null || true' EXIT INT TERM

$PY manage.py demo_logins --url "http://$HOST:$PORT/"
exec_args=(--bind "$HOST:$PORT" --workers "${WEB_WORKERS:-3}" --threads 4 --access-logfile - --capture-output)
.venv/bin/gunicorn zhouxin.wsgi:application "${exec_args[@]}"
