"""python manage.py import_divisions DIR --city CODE [--district CODE]

Imports the area tree of one city from the national divisions CSV files.  Every
row is validated first; any error is reported with its file and line and nothing
is imported (exit status 1).  Re-running with the same files changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhouxin.core.scoping import scopes_disabled
from zhouxin.orgs.divisions import DivisionsError, divisions_import

MAX_ERRORS_SHOWN = 200


class Command(BaseCommand):
    help = "Import a city's areas (districts, streets, communities) from the national divisions CSV files."

    def add_arguments(self, parser):
        parser.add_argument("directory", help="directory with provinces.csv, cities.csv, areas.csv, streets.csv, "
                                              "villages.csv")
        parser.add_argument("--city", required=True, help="4-digit city code, e.g. 1101 for Beijing")
        parser.add_argument("--district", help="only this 6-digit district of the city, e.g. 110101")

    def handle(self, *args, directory, city, district=None, **options):
        try:
            with scopes_disabled():
                report = divisions_import(actor=None, directory=directory, city=city, district=district)
        except DivisionsError as exc:
            for error in exc.errors[:MAX_ERRORS_SHOWN]:
                self.stderr.write(str(error))
            if len(exc.errors) > MAX_ERRORS_SHOWN:
                self.stderr.write(_("…… 另有 %(n)d 处错误未列出。") % {"n": len(exc.errors) - MAX_ERRORS_SHOWN})
            raise CommandError(str(exc)) from None
        self.stdout.write(report.summary())
        for level, counts in report.by_level.items():
            if options["verbosity"] > 1:
                self.stdout.write(f"  {level}: {counts}")
