"""What a tracking link shows of a delivery address: enough for the customer to recognise it,
not enough for whoever the link is forwarded to to find the door. Pure.

The rule, for the street lines (``line1``, ``line2``): every word keeps its first character and
the rest becomes ``***`` whatever its length, so neither the house number nor the street can be
read back, nor guessed from how long they are — ``12 rue de la République`` reads
``1*** r*** de la R***``, ``3 bis, allée des Tilleuls`` reads ``3*** b***, a*** d*** T***``.
Words of one or two letters and no digit (``de``, ``la``, ``l'``, ``B``) stay: they tell nothing
of where. Punctuation stays. The recipient's name keeps its first word and the initial of its
last (``Ada Byron`` reads ``Ada B.``). Postcode, city and country are shown as they are: the
customer checks that the parcel goes to the right town.
"""

from __future__ import annotations

import re

__all__ = ["mask_name", "mask_street"]

HIDDEN = "***"
_WORD = re.compile(r"\w+")
_SHORT_WORD = 2  # letters; "de", "la", "du", "le", "St"


def _mask_word(match: re.Match[str]) -> str:
    word = match.group()
    if word.isalpha() and len(word) <= _SHORT_WORD:
        return word
    return word[0] + HIDDEN


def mask_street(line: str) -> str:
    """``12 rue de la République`` → ``1*** r*** de la R***`` (see the module's rule)."""
    return _WORD.sub(_mask_word, line.strip())


def mask_name(name: str) -> str:
    """``Ada Byron`` → ``Ada B.``; a name of one word stays as it is."""
    words = name.split()
    if len(words) < 2:
        return " ".join(words)
    return f"{words[0]} {words[-1][0]}."
