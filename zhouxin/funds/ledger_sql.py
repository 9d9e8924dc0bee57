"""The funds ledger and the disclosures are append-only: database triggers refuse UPDATE and
DELETE on both tables (core.append_only), on SQLite and on PostgreSQL."""

from zhouxin.core.append_only import AppendOnly, register

FUNDS_TABLES = ("funds_ledgerentry", "funds_disclosure")
GROUP = register(AppendOnly(function="zhouxin_funds_append_only", label="funds ledger", tables=FUNDS_TABLES))
