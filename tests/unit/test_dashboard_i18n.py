"""Every message of the dashboard has a French translation, with the same placeholders."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import dashboard_i18n  # noqa: E402

PLACEHOLDER = re.compile(r"%\(\w+\)s|\{\w+\}")


def test_every_dashboard_message_is_translated_into_french() -> None:
    template = dashboard_i18n.extract()
    with (ROOT / "src/luneo/dashboard/locales/fr/LC_MESSAGES/messages.po").open("rb") as f:
        french = read_po(f, locale="fr")
    missing = [m.id for m in template if m.id and not (french.get(m.id) and french.get(m.id).string)]
    assert not missing, f"run scripts/dashboard_i18n.py: untranslated {missing[:10]}"
    assert len(template) > 40


def test_translations_keep_their_placeholders() -> None:
    with (ROOT / "src/luneo/dashboard/locales/fr/LC_MESSAGES/messages.po").open("rb") as f:
        french = read_po(f, locale="fr")
    for message in french:
        if message.id and isinstance(message.id, str) and message.string:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(PLACEHOLDER.findall(str(message.string))), message.id
