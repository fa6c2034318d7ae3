"""Secrets in server URLs are masked wherever a URL is shown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from optbus.urls import masked_text, shown_url


def test_a_password_in_a_database_url_is_masked() -> None:
    assert (
        shown_url("postgresql://optbus:s3cret@db:5432/optbus")
        == "postgresql://optbus:***@db:5432/optbus"
    )


def test_a_user_without_a_password_is_shown_as_it_is() -> None:
    assert shown_url("postgresql://postgres@127.0.0.1/optbus") == (
        "postgresql://postgres@127.0.0.1/optbus"
    )


def test_a_nats_token_is_masked() -> None:
    assert shown_url("nats://s3cret@nats:4222") == "nats://***@nats:4222"


def test_every_member_of_a_cluster_url_is_masked() -> None:
    assert shown_url("nats://a:p1@n1:4222,nats://a:p2@n2:4222") == (
        "nats://a:***@n1:4222,nats://a:***@n2:4222"
    )


def test_a_password_in_a_libpq_keyword_string_is_masked() -> None:
    assert shown_url("host=db password='s e' user=x") == "host=db password=*** user=x"


def test_a_url_without_credentials_is_unchanged() -> None:
    assert shown_url("nats://127.0.0.1:4222") == "nats://127.0.0.1:4222"


@given(
    st.text(alphabet=st.characters(blacklist_characters="@/:,?#[]", min_codepoint=33), min_size=4)
)
def test_any_password_is_shown_as_the_mask(password: str) -> None:
    shown = shown_url(f"postgresql://user:{password}@db:5432/optbus")
    assert shown == "postgresql://user:***@db:5432/optbus"


def test_a_password_of_a_url_inside_a_message_is_masked() -> None:
    assert masked_text("cannot reach nats://svc:pw@n1:4222 (refused)") == (
        "cannot reach nats://svc:***@n1:4222 (refused)"
    )
