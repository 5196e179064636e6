"""The pure rules behind the tracking page's privacy: masking, proofs, device passes, the count."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from comptoir.attempts import Admission, MemoryAttempts
from comptoir.errors import InvalidInput
from comptoir.tracking.masking import HIDDEN, mask_name, mask_street
from comptoir.tracking.proof import (
    PASS_LIFETIME_SECONDS,
    WRONG_ANSWERS,
    Proof,
    accepted_proofs,
    answer_matches,
    device_pass,
    pass_key,
    pass_opens,
    proof_subject,
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


async def test_five_wrong_answers_a_day_per_order_and_a_right_one_does_not_count() -> None:
    clock = [1000.0]
    attempts = MemoryAttempts(clock=lambda: clock[0])
    order, other = proof_subject(uuid.uuid4()), proof_subject(uuid.uuid4())
    assert (await attempts.admit([order])).left == 4
    await attempts.succeeded([order])  # a right answer
    assert [(await attempts.admit([order])).left for _ in range(5)] == [4, 3, 2, 1, 0]
    clock[0] += 3600
    assert await attempts.admit([order]) == Admission(False, retry_after=23 * 3600)
    assert (await attempts.admit([other])).left == 4  # per order
    clock[0] += 23 * 3600  # a day after the first answer: a new day starts
    assert (await attempts.admit([order])).left == WRONG_ANSWERS.free - 1
