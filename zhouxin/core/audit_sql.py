"""Triggers that make the audit tables append-only, on SQLite and on PostgreSQL
(core.append_only has the mechanism).

The only code that lifts them is `triggers_lifted()`, used inside one transaction by
`audit_purge` (retention) and `flush` (emptying a whole test or demo database).
"""

from __future__ import annotations

from .append_only import AppendOnly, register

AUDIT_TABLES = ("core_auditentry", "core_auditseal")
GROUP = register(AppendOnly(function="zhouxin_audit_append_only", label="audit log", tables=AUDIT_TABLES))

create_statements = GROUP.create_statements
drop_statements = GROUP.drop_statements
install = GROUP.install
uninstall = GROUP.uninstall
installed = GROUP.installed
triggers_lifted = GROUP.triggers_lifted
