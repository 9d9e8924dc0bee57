"""English is complete: every msgid in the code has an English translation."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings

LOCALE = Path(settings.BASE_DIR) / "zhouxin" / "locale"


@pytest.mark.skipif(not shutil.which("xgettext") or not shutil.which("msgattrib"),
                    reason="GNU gettext (xgettext, msgattrib) is not installed; CI installs it")
def test_english_catalogue_covers_every_message(tmp_path, monkeypatch):
    target = tmp_path / "locale"
    if LOCALE.exists():
        shutil.copytree(LOCALE, target)
    else:
        target.mkdir()
    monkeypatch.chdir(settings.BASE_DIR)
    with override_settings(LOCALE_PATHS=[target]):
        call_command("makemessages", locale=["en"], no_obsolete=True, verbosity=0,
                     ignore_patterns=[".venv/*", "node_modules/*", "var/*", "staticfiles/*"])
    po = target / "en" / "LC_MESSAGES" / "django.po"
    untranslated = subprocess.run(["msgattrib", "--untranslated", "--no-obsolete", str(po)],
                                  capture_output=True, text=True, check=True).stdout
    fuzzy = subprocess.run(["msgattrib", "--only-fuzzy", "--no-obsolete", str(po)],
                           capture_output=True, text=True, check=True).stdout
    missing = [line for line in untranslated.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
    fuzzy_ids = [line for line in fuzzy.splitlines() if line.startswith("msgid ") and line != 'msgid ""']
    assert not missing, f"{len(missing)} messages have no English translation, e.g. {missing[:10]}"
    assert not fuzzy_ids, f"{len(fuzzy_ids)} English translations are fuzzy, e.g. {fuzzy_ids[:10]}"


@pytest.mark.skipif(not shutil.which("msgfmt"), reason="GNU gettext (msgfmt) is not installed; CI installs it")
def test_committed_english_mo_matches_its_po(tmp_path):
    po = LOCALE / "en" / "LC_MESSAGES" / "django.po"
    mo = LOCALE / "en" / "LC_MESSAGES" / "django.mo"
    assert po.exists() and mo.exists(), "run manage.py makemessages -l en and compilemessages"
    fresh = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], check=True)
    assert fresh.read_bytes() == mo.read_bytes(), "django.mo is stale: run manage.py compilemessages"
