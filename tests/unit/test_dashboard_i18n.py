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
    translated = {m.id for m in _french() if m.id and m.string}
    missing = [m.id for m in template if m.id and m.id not in translated]
    assert not missing, f"run scripts/dashboard_i18n.py: untranslated {missing[:10]}"
    assert len(template) > 40


def _french() -> list:  # type: ignore[type-arg]
    messages = []
    for po in sorted((ROOT / "src/luneo/dashboard/locales/fr/LC_MESSAGES").glob("*.po")):
        with po.open("rb") as f:
            messages.extend(read_po(f, locale="fr"))
    return messages


def test_translations_keep_their_placeholders() -> None:
    for message in _french():
        if message.id and isinstance(message.id, str) and message.string:
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
                PLACEHOLDER.findall(str(message.string))
            ), message.id
