from django.db import migrations

from zhouxin.centers import booking_sql


def forwards(apps, schema_editor):
    for sql in booking_sql.create_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, None)


def backwards(apps, schema_editor):
    for sql in booking_sql.drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, None)


class Migration(migrations.Migration):
    """The database refuses overlapping live bookings of a room: an exclusion constraint on PostgreSQL,
    triggers on SQLite."""

    dependencies = [("centers", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
