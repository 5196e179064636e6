"""The pick list of work not started follows its order: pure rule, no database."""

from __future__ import annotations

import uuid

from hypothesis import given, settings
from hypothesis import strategies as st

from comptoir.fulfillment.pick_list import corrections

A, B, C = (uuid.UUID(int=n) for n in (1, 2, 3))


def test_a_new_pick_list_lists_what_the_order_holds_less_what_other_work_there_covers() -> None:
    # A re-routed remainder: 3 of A held here, 2 already on the first part's pick list.
    assert corrections({A: 3, B: 1}, {A: 2}, {}) == {A: 1, B: 1}


def test_units_moved_elsewhere_leave_the_pick_list_and_nothing_new_is_listed_at_zero() -> None:
    assert corrections({A: 0, C: 0}, {}, {A: 2, B: 1}) == {A: 0, B: 0}
    assert corrections({A: 2}, {}, {A: 2}) == {}


units = st.dictionaries(st.sampled_from([A, B, C]), st.integers(0, 5))


# No deadline: a busy machine is no counterexample.
@settings(deadline=None)
@given(units, units, units)
def test_a_corrected_pick_list_needs_no_second_correction(held: dict[uuid.UUID, int],
                                                          covered: dict[uuid.UUID, int],
                                                          listed: dict[uuid.UUID, int]) -> None:
    corrected = {**listed, **corrections(held, covered, listed)}
    for line_id in held.keys() | listed.keys():
        assert corrected.get(line_id, 0) == max(0, held.get(line_id, 0) - covered.get(line_id, 0))
    assert corrections(held, covered, corrected) == {}
