import pytest
from django.db import DatabaseError, connection

from zhouxin.core import audit
from zhouxin.core.models import AuditEntry


@pytest.mark.django_db(transaction=True)
def test_flush_empties_audit_and_keeps_it_append_only():
    from django.core.management import call_command

    audit.record(actor=None, action="test.flush")
    call_command("flush", interactive=False, verbosity=0)
    assert AuditEntry.objects.count() == 0
    entry = audit.record(actor=None, action="test.after_flush")
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditentry WHERE id = %s", [entry.pk])
