"""Signals of the orgs app."""

from django.dispatch import Signal

# Sent once a transaction that changed areas in bulk (QuerySet.update, bulk_update: no model
# signal) has committed, so per-process caches of areas (dispatch.lookup) drop what they hold.
areas_changed = Signal()
