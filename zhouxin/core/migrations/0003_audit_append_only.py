from django.db import migrations

from zhouxin.core import audit_sql


def forwards(apps, schema_editor):
    audit_sql.install(schema_editor)


def backwards(apps, schema_editor):
    audit_sql.uninstall(schema_editor)


class Migration(migrations.Migration):
    """Database triggers refuse UPDATE and DELETE on the audit tables (SQLite and PostgreSQL)."""

    dependencies = [("core", "0002_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
