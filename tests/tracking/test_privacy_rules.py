"""The pure rules behind the tracking page's privacy: masking, proofs, device passes, the count."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comptoir.errors import InvalidInput, TooManyRequests
from comptoir.tracking.attempts import MemoryAttempts
from comptoir.tracking.masking import HIDDEN, mask_name, mask_street
from comptoir.tracking.proof import (
    PASS_LIFETIME_SECONDS,
    Proof,
    accepted_proofs,
    answer_matches,
    device_pass,
    pass_key,
    pass_opens,
    read_answer,
)


@pytest.mark.parametrize(("street", "masked"), [
    ("12 rue de la République", "1*** r*** de la R***"),
    ("3 rue de la Paix", "3*** r*** de la P***"),
    ("3 bis, allée des Tilleuls", "3*** b***, a*** d*** T***"),
    ("127 avenue d'Italie", "1*** a*** d'I***"),
    ("Bât. B, 5 place Saint-Jean", "B***. B, 5*** p*** S***-J***"),
    ("", ""),
])
def test_a_street_keeps_each_words_first_character_and_hides_the_rest(
    street: str, masked: str,
) -> None:
    assert mask_street(street) == masked


def test_a_masked_street_does_not_tell_how_long_its_words_are() -> None:
    assert mask_street("8 rue Lac") == mask_street("8888 rue Lamartine") == "8*** r*** L***"
    assert mask_street("1 impasse Roc") == mask_street("1 impasse Rochechouart")


@given(st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P"]), max_size=60))
def test_no_word_of_three_characters_or_more_survives_masking(street: str) -> None:
    masked = mask_street(street)
    hidden_words = [w for w in street.split() if len(w) >= 3 and w.isalnum()]
    for word in hidden_words:
        assert f" {word} " not in f" {masked} "
    assert masked.count(HIDDEN) >= len(hidden_words)


@pytest.mark.parametrize(("name", "masked"), [
    ("Ada Byron", "Ada B."), ("Ada Lovelace-Byron", "Ada L."), ("Jean de la Fontaine", "Jean F."),
    ("Cher", "Cher"), ("  ", ""),
])
def test_a_name_keeps_its_first_word_and_the_initial_of_its_last(name: str, masked: str) -> None:
    assert mask_name(name) == masked


def test_proofs_offered_are_the_ones_the_order_can_check() -> None:
    assert accepted_proofs("+33 6 12 34 56 78", "ada@example.fr") == (Proof.PHONE, Proof.EMAIL)
    assert accepted_proofs(None, "ada@example.fr") == (Proof.EMAIL,)
    assert accepted_proofs("6 12", None) == ()  # fewer than four digits: nothing to ask
    assert accepted_proofs(None, "  ") == ()


@pytest.mark.parametrize(("typed", "read"), [
    ("5678", (Proof.PHONE, "5678")), (" 56 78 ", (Proof.PHONE, "5678")),
    ("56-78", (Proof.PHONE, "5678")), ("56.78", (Proof.PHONE, "5678")),
    (" Ada@Example.FR ", (Proof.EMAIL, "ada@example.fr")),
])
def test_an_answer_is_four_digits_or_an_e_mail(typed: str, read: tuple[Proof, str]) -> None:
    assert read_answer(typed) == read


@pytest.mark.parametrize("typed", ["", "567", "45678", "56a8", "٥٦٧٨", "phone"])
def test_anything_else_is_unreadable(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        read_answer(typed)
    assert refused.value.code == "unreadable_proof"


def test_an_answer_matches_the_orders_phone_ending_or_its_e_mail() -> None:
    phone, email = "+33 6 12 34 56 78", "ada@example.fr"
    assert answer_matches(Proof.PHONE, "5678", phone, email)
    assert not answer_matches(Proof.PHONE, "1234", phone, email)
    assert answer_matches(Proof.EMAIL, "ada@example.fr", phone, email)
    assert not answer_matches(Proof.EMAIL, "eve@example.fr", phone, email)
    assert not answer_matches(Proof.PHONE, "5678", None, email)  # no phone: digits never match
    assert not answer_matches(Proof.EMAIL, "", phone, None)


def test_a_device_pass_opens_its_order_until_it_expires_and_cannot_be_forged() -> None:
    key, order, now = pass_key("s" * 40), uuid.uuid4(), 1_800_000_000
    value = device_pass(key, order, now)
    assert pass_opens(key, order, value, now + PASS_LIFETIME_SECONDS - 1)
    assert not pass_opens(key, order, value, now + PASS_LIFETIME_SECONDS)  # expired
    assert not pass_opens(key, uuid.uuid4(), value, now)  # another order
    assert not pass_opens(pass_key("t" * 40), order, value, now)  # another server's secret
    expires, mac = value.split(".")
    assert not pass_opens(key, order, f"{int(expires) + 10**6}.{mac}", now)  # stretched
    for forged in (None, "", ".", "abc.def", f"{expires}.", "9" * 40 + "." + mac):
        assert not pass_opens(key, order, forged, now)


async def test_the_memory_count_refuses_past_the_limit_and_gives_right_answers_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = [1000.0]
    monkeypatch.setattr("comptoir.tracking.attempts.time.monotonic", lambda: clock[0])
    attempts = MemoryAttempts(limit=2, window=60)
    assert (await attempts.take("A")).left == 1
    await attempts.give_back("A")  # a right answer
    assert (await attempts.take("A")).left == 1
    assert (await attempts.take("A")).left == 0
    with pytest.raises(TooManyRequests) as refused:
        await attempts.take("A")
    assert refused.value.extra["headers"] == {"Retry-After": "60"}
    assert (await attempts.take("B")).left == 1  # per order
    clock[0] += 60  # the window ends: a new one starts
    assert (await attempts.take("A")).left == 1
