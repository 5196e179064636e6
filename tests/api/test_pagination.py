"""The one cursor codec every list uses: a page's last sort key out, the same key back in."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comptoir.errors import InvalidInput
from comptoir.pagination import decode_cursor, decode_time_cursor, encode_cursor


@given(st.datetimes(timezones=st.just(dt.UTC)), st.uuids())
def test_a_time_and_id_cursor_gives_back_the_same_time_and_id(
    moment: dt.datetime, identifier: uuid.UUID
) -> None:
    assert decode_time_cursor(encode_cursor(moment, identifier)) == (moment, identifier)


@given(st.lists(st.text(), min_size=1, max_size=4))
def test_a_cursor_of_texts_gives_back_the_same_texts(values: list[str]) -> None:
    cursor = encode_cursor(*values)
    assert decode_cursor(cursor, len(values)) == tuple(values)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


@pytest.mark.parametrize("cursor", [
    "garbage!",
    encode_cursor("only-one"),
    encode_cursor("2026-01-02T03:04:05", uuid.uuid4()),  # a time without its zone
    encode_cursor("yesterday", uuid.uuid4()),
    encode_cursor(dt.datetime.now(dt.UTC), "not-a-uuid"),
    encode_cursor("a", "b", "c"),
])
def test_a_cursor_no_time_sorted_list_gave_is_refused_with_its_code(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        decode_time_cursor(cursor)
    assert refused.value.code == "invalid_cursor"
