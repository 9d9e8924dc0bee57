"""python manage.py demo_code USERNAME

Prints the current 6-digit TOTP code of a demo staff login.  Exists only for the
demo: refused unless settings.DEMO_ENABLED and the demo district is loaded.
"""

from django.core.management.base import BaseCommand, CommandError

from zhouxin.orgs.demo import DemoUnavailable, current_code, demo_device


class Command(BaseCommand):
    help = "Print the current TOTP code of a demo login (demo mode only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            device = demo_device(username)
        except DemoUnavailable as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(current_code(device))
