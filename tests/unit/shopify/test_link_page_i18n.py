"""Every message of the Shopify app's pages has its French translation."""

from __future__ import annotations

from babel.messages.extract import extract_from_dir

from luneo.integrations.shopify import link_page
from luneo.platform.languages import po_translations


def test_every_link_page_message_is_translated_to_french() -> None:
    fr = po_translations(link_page.LOCALES_DIR, "fr")
    found = list(
        extract_from_dir(
            str(link_page.TEMPLATES_DIR),
            method_map=[("**.html", "jinja2")],
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        )
    )
    assert found, "no message extracted: the extractor did not run"
    missing = [msg[2] for msg in found if fr.gettext(msg[2]) == msg[2]]
    assert missing == []


def test_the_page_escapes_what_it_shows() -> None:
    page = link_page.render('x"><script>', "t<", "en", error="<b>no</b>")
    assert "<script>" not in page and "&lt;b&gt;no&lt;/b&gt;" in page
