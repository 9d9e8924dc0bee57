"""`manage.py seed_lexicon`: load the default spam lexicon (idempotent; run by `make migrate`)."""

from django.core.management.base import BaseCommand

from zhouxin.core.scoping import scopes_disabled
from zhouxin.moderation.services import seed_default_lexicon


class Command(BaseCommand):
    help = "Load the default spam lexicon once per seed version (terms deleted by an administrator stay deleted)."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true",
                            help="add the default terms missing from the lexicon even if this seed version was loaded")

    def handle(self, *args, force=False, **options):
        with scopes_disabled():
            added = seed_default_lexicon(force=force)
        if options["verbosity"] >= 1:
            self.stdout.write(f"lexicon: {added} default terms added")
