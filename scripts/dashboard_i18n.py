"""Keep the dashboard's French catalogue in step with its templates and code.

Messages translated in another PO file of the folder (an area's own `orders.po`, …) stay there;
the rest are merged into `messages.po`.

    python scripts/dashboard_i18n.py            # extract, merge into locales/fr, list untranslated
    python scripts/dashboard_i18n.py --add FILE # also add translations from a JSON {msgid: msgstr} file

Uses Babel's extractor (babel.cfg) and PO reader/writer; messages no longer used are dropped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "src" / "luneo" / "dashboard"
LOCALES = ("fr",)


def extract() -> Catalog:
    """Every message of the dashboard's code and templates."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    template = Catalog(project="luneo-dashboard")
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2)}
    for filename, lineno, message, comments, context in extract_from_dir(
        SOURCE, method_map, options_map, keywords=keywords
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def main(argv: list[str]) -> int:
    added: dict[str, str] = {}
    if len(argv) > 1 and argv[0] == "--add":
        added = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    template = extract()
    missing = 0
    for locale in LOCALES:
        po = SOURCE / "locales" / locale / "LC_MESSAGES" / "messages.po"
        po.parent.mkdir(parents=True, exist_ok=True)
        if po.exists():
            with po.open("rb") as f:
                catalog = read_po(f, locale=locale)
        else:
            catalog = Catalog(locale=locale, project="luneo-dashboard")
        others: dict[object, object] = {}
        for extra in po.parent.glob("*.po"):
            if extra != po:
                with extra.open("rb") as f:
                    others.update({m.id: m.string for m in read_po(f, locale=locale) if m.id and m.string})
        for message in list(template):
            if message.id in others:
                template.delete(message.id)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        for message in catalog:
            if message.id and message.id in added:
                message.string = added[message.id]
            if message.id and not message.string:
                missing += 1
                print(f"{locale}: untranslated: {message.id!r}")
        with po.open("wb") as f:
            write_po(f, catalog, width=0, omit_header=False, sort_output=True)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
