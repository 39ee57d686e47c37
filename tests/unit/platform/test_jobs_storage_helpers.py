"""Pure helpers of the job runtime, storage and notifications."""

from __future__ import annotations

import pytest

from luneo.notifications.service import _on_colour
from luneo.platform import jobs
from luneo.platform.storage import content_disposition, content_key, is_content_addressed, validate_key


def test_backoff_doubles_from_two_seconds() -> None:
    spec = jobs.ActorSpec("x", lambda ctx: None, time_limit_s=1, max_retries=3, backoff_base_s=2.0)
    assert [spec.backoff_s(a) for a in (1, 2, 3, 4)] == [2.0, 4.0, 8.0, 16.0]


def test_actor_name_clash_is_refused() -> None:
    @jobs.actor("unit_clash")
    def first(ctx: jobs.JobContext) -> None:
        return None

    with pytest.raises(ValueError):

        @jobs.actor("unit_clash")
        def second(ctx: jobs.JobContext) -> None:
            return None

    with pytest.raises(ValueError):
        jobs.actor("bad", time_limit_s=0)


def test_content_keys() -> None:
    sha = "ab" * 32
    assert content_key(sha) == f"sha256/ab/ab/{sha}"
    assert is_content_addressed(content_key(sha))
    assert not is_content_addressed(f"sha256/cd/ab/{sha}")  # prefix must match the hash
    assert not is_content_addressed("renders/x.png")
    assert validate_key("renders/r_1/preview@2x.png".replace("@", "-")) == "renders/r_1/preview-2x.png"


def test_content_disposition_is_ascii_safe() -> None:
    value = content_disposition('Bon "été"\r\n.pdf')
    assert "\r" not in value and "\n" not in value
    assert value.startswith('attachment; filename="Bon _')
    assert "filename*=UTF-8''Bon%20_%C3%A9t%C3%A9_" in value


@pytest.mark.parametrize(
    ("colour", "text"),
    [("#ffffff", "#000000"), ("#000", "#ffffff"), ("#ff5500", "#000000"), ("#1e3a8a", "#ffffff")],
)
def test_text_colour_on_brand_colour(colour: str, text: str) -> None:
    assert _on_colour(colour) == text
