"""Every message of the email templates has a French translation, with the same placeholders."""

from __future__ import annotations

import re

from babel.messages.pofile import read_po

from luneo.notifications import i18n

PLACEHOLDER = re.compile(r"%\(\w+\)s")
PO = i18n.LOCALES_DIR / "fr" / "LC_MESSAGES" / "emails.po"


def _french() -> list:  # type: ignore[type-arg]
    with PO.open("rb") as f:
        return list(read_po(f, locale="fr"))


def test_every_email_message_is_translated_into_french() -> None:
    template = i18n.extract()
    translated = {m.id for m in _french() if m.id and m.string}
    missing = [m.id for m in template if m.id and m.id not in translated]
    assert not missing, f"add French to {PO}: untranslated {missing[:10]}"
    assert len(template) > 60


def test_translations_keep_their_placeholders() -> None:
    for message in _french():
        if message.id and message.string:
            assert sorted(PLACEHOLDER.findall(str(message.id))) == sorted(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_language_is_picked_from_locales() -> None:
    assert i18n.pick_language(None, "fr-CA") == "fr"
    assert i18n.pick_language("de", "FR_fr") == "fr"
    assert i18n.pick_language("es", None, "") == "en"
