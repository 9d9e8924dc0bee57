from django.db import migrations

from zhouxin.funds import ledger_sql


def forwards(apps, schema_editor):
    ledger_sql.GROUP.install(schema_editor)


def backwards(apps, schema_editor):
    ledger_sql.GROUP.uninstall(schema_editor)


class Migration(migrations.Migration):
    """Database triggers refuse UPDATE and DELETE on the ledger and the disclosures (SQLite and PostgreSQL)."""

    dependencies = [("funds", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
