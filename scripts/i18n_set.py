"""Set English translations in zhouxin/locale/en/LC_MESSAGES/django.po from a JSON file
{msgid: msgstr}, clearing their fuzzy flags (an entry with a context is keyed "context\u0004msgid").  For the few strings added after a
translation pass; uses GNU gettext's msgattrib/msgmerge-free editing via polib-like parsing.

    .venv/bin/python scripts/i18n_set.py translations.json
"""

import json
import re
import sys
from pathlib import Path

PO = Path(__file__).resolve().parent.parent / "zhouxin" / "locale" / "en" / "LC_MESSAGES" / "django.po"


def quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def main(path: str) -> int:
    wanted: dict[str, str] = json.loads(Path(path).read_text(encoding="utf-8"))
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    done = set()
    for i, block in enumerate(blocks):
        lines = block.split("\n")
        try:
            start = next(n for n, line in enumerate(lines) if line.startswith("msgid "))
        except StopIteration:
            continue
        end = next(n for n, line in enumerate(lines) if line.startswith("msgstr") or line.startswith("msgid_plural"))
        msgid = "".join(json.loads(line.split(" ", 1)[1] if n == start else line)
                        for n, line in enumerate(lines[start:end], start))
        context = next((json.loads(line.split(" ", 1)[1]) for line in lines[:start] if line.startswith("msgctxt ")), None)
        if context is not None:
            msgid = f"{context}\x04{msgid}"  # a context entry: key "context\u0004msgid" in the JSON
        if msgid not in wanted or lines[end].startswith("msgid_plural"):
            continue
        head = [line for line in lines[:start] if not line.startswith("#|")]
        head = [re.sub(r",\s*fuzzy", "", line) if line.startswith("#,") else line for line in head]
        head = [line for line in head if line.strip() not in ("#,", "#")]  # no flags left: drop the line
        blocks[i] = "\n".join(head + lines[start:end] + ["msgstr " + quote(wanted[msgid])])
        done.add(msgid)
    PO.write_text("\n\n".join(blocks), encoding="utf-8")
    missing = set(wanted) - done
    for msgid in sorted(missing):
        print("not found:", msgid, file=sys.stderr)
    print(f"set {len(done)} translations")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
