"""What the pick list of work not started yet holds, line by line. Pure.

It follows the order: what the order holds at the location (its allocations there), less
what the order's other open work at that location already covers (a re-routed remainder
joins a location that may be busy with the first part). Never below zero.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping

__all__ = ["corrections"]


def corrections(held: Mapping[uuid.UUID, int], covered: Mapping[uuid.UUID, int],
                listed: Mapping[uuid.UUID, int]) -> dict[uuid.UUID, int]:
    """The quantity of each order line whose pick-list line must change, keyed by order line.

    ``held``: units the order holds at the location; ``covered``: units its other open work
    there will send; ``listed``: what the pick list says now. A line not listed yet is in the
    answer only when some units are wanted.
    """
    changed: dict[uuid.UUID, int] = {}
    for line_id in held.keys() | listed.keys():
        wanted = max(0, held.get(line_id, 0) - covered.get(line_id, 0))
        if (listed[line_id] != wanted) if line_id in listed else wanted > 0:
            changed[line_id] = wanted
    return changed
