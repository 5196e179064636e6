"""Splitting an order no single location can serve: the best set of at most
``max_splits`` locations, each line whole where it can be, and why each location is in
the split or not (see ``scoring`` for the rules)."""

from __future__ import annotations

from collections.abc import Sequence
from math import inf

from comptoir.routing.candidates import Context, Demand, Scored, listing, missing, rank
from comptoir.routing.decision import Allocation, Decision, Policy, Shortage
from comptoir.routing.reasons import Reason, ReasonCode, ReasonLine, listed

__all__ = ["split"]

# The split search looks at this many locations at most (the greedy choice, then up to
# PER_LINE best suppliers of each line, then the most complete ones) ...
POOL_SIZE = 24
PER_LINE = 4
# ... tries at most this many locations at each step, and stops after about this many
# (location, line) comparisons: a few milliseconds, whatever the order.
BRANCH_WIDTH = 8
MAX_WORK = 40_000
_NOT_NEEDED = Reason(code=ReasonCode.NOT_NEEDED)


def split(context: Context, eligible: list[Scored], policy: Policy) -> Decision:
    """The best split within the policy's limit, or a refusal saying what is short."""
    demand = context.demand
    quantities = tuple(q for _sku, q in demand)
    totals = [sum(s.gives[i] for s in eligible) for i in range(len(demand))]
    for s in eligible:
        s.fraction = sum(g / q for g, q in zip(s.gives, quantities, strict=True))

    def refuse(shortages: tuple[Shortage, ...], code: ReasonCode, factor: str,
               limit: int | None = None) -> Decision:
        candidates, not_listed = listing(
            context, [], lambda s: missing(demand, s.gives) or _NOT_NEEDED)
        lines, more = listed([ReasonLine(sku=s.sku, quantity=s.requested, available=s.available)
                              for s in shortages])
        why = Reason(code=code, limit=limit, lines=lines, more_lines=more)
        return Decision(False, (), shortages, why, factor, candidates,
                        context.without_stock, context.destination, not_listed=not_listed)

    short = tuple(Shortage(sku, q, totals[i]) for i, (sku, q) in enumerate(demand)
                  if totals[i] < q)
    if short:
        return refuse(short, ReasonCode.OUT_OF_STOCK, "out_of_stock")
    limit = max(1, policy.max_splits)
    plan, partial = _search(eligible, quantities, limit, policy.split_penalty)
    if plan is None:
        shortages = tuple(Shortage(sku, q, q - partial[i]) for i, (sku, q) in enumerate(demand)
                          if partial[i] > 0)
        if limit == 1:
            return refuse(shortages, ReasonCode.SPLIT_NOT_ALLOWED, "max_splits")
        return refuse(shortages, ReasonCode.TOO_MANY_SPLITS, "max_splits", limit)

    allocations, used = _allocate(demand, plan)
    chosen = sorted((s for s in plan if s.candidate.code in used), key=rank)
    total = round(sum(s.score for s in chosen) + policy.split_penalty * (len(chosen) - 1), 3)
    reason = Reason(code=ReasonCode.SPLIT, locations=tuple(s.candidate.code for s in chosen),
                    limit=limit, place_unknown=context.place_unknown)
    served: dict[str, list[ReasonLine]] = {}
    for a in allocations:
        served.setdefault(a.location, []).append(ReasonLine(sku=a.sku, quantity=a.quantity))

    def serves(s: Scored) -> Reason:
        lines, more = listed(served[s.candidate.code])
        return Reason(code=ReasonCode.SERVES, lines=lines, more_lines=more)

    def why_lost(s: Scored) -> Reason:
        return Reason(code=ReasonCode.NOT_IN_SPLIT, because=missing(demand, s.gives))

    candidates, not_listed = listing(context, [(s, serves(s)) for s in chosen], why_lost)
    return Decision(True, tuple(allocations), (), reason, "split", candidates,
                    context.without_stock, context.destination, total, not_listed=not_listed)


def _search(
    scored: list[Scored], quantities: tuple[int, ...], limit: int, penalty: float
) -> tuple[list[Scored] | None, tuple[int, ...]]:
    """The best set of at most ``limit`` locations covering every line, or None.

    With None comes what the best greedy set of ``limit`` locations still leaves short.
    Greedy first (the location serving the largest share of what is left, then the better
    score), which also gives a bound; then a branch-and-bound search over a pool of useful
    locations, always branching on the first line not yet covered. Scores are never
    negative, so a partial plan costing as much as the best one is abandoned.
    """
    n = len(quantities)
    best: list[Scored] | None = None
    best_key: tuple[float, int, tuple[str, ...]] = (inf, 0, ())

    def key_of(plan: Sequence[Scored]) -> tuple[float, int, tuple[str, ...]]:
        total = sum(s.score for s in plan) + penalty * (len(plan) - 1)
        return (round(total, 3), len(plan), tuple(sorted(s.candidate.code for s in plan)))

    def left_after(remaining: tuple[int, ...], s: Scored) -> tuple[int, ...]:
        return tuple(max(0, r - g) for r, g in zip(remaining, s.gives, strict=True))

    def share(remaining: tuple[int, ...], s: Scored) -> float:
        return sum(min(r, g) / q for r, g, q in zip(remaining, s.gives, quantities, strict=True)
                   if r)

    # Greedy.
    remaining = quantities
    greedy: list[Scored] = []
    taken: set[str] = set()
    while any(remaining) and len(greedy) < limit:
        pick = max((s for s in scored if s.candidate.code not in taken),
                   key=lambda s: (share(remaining, s), -s.score), default=None)
        if pick is None or share(remaining, pick) == 0:
            break
        greedy.append(pick)
        taken.add(pick.candidate.code)
        remaining = left_after(remaining, pick)
    if not any(remaining):
        best, best_key = greedy, key_of(greedy)
    partial = remaining

    # A pool of useful locations: the greedy choice, then in turn the next-best supplier of
    # each line, then the most complete ones. With few candidates, all of them.
    if len(scored) <= POOL_SIZE:
        pool = list(scored)
    else:
        picked: dict[str, Scored] = {s.candidate.code: s for s in greedy}
        suppliers = [_best_suppliers(scored, i, quantities[i]) for i in range(n)]
        depth = 0
        while len(picked) < POOL_SIZE and any(depth < len(line) for line in suppliers):
            for line in suppliers:
                if depth < len(line) and len(picked) < POOL_SIZE:
                    picked.setdefault(line[depth].candidate.code, line[depth])
            depth += 1
            if depth >= PER_LINE:
                break
        for s in sorted(scored, key=lambda s: (-s.fraction, s.score, s.candidate.code)):
            if len(picked) >= POOL_SIZE:
                break
            picked.setdefault(s.candidate.code, s)
        pool = sorted(picked.values(), key=rank)

    work = 0
    seen: set[frozenset[str]] = set()

    def explore(plan: list[Scored], remaining: tuple[int, ...], cost: float) -> None:
        nonlocal best, best_key, work
        if not any(remaining):
            key = key_of(plan)
            if key < best_key:
                best, best_key = list(plan), key
            return
        if len(plan) >= limit or work > MAX_WORK:
            return
        work += len(pool) * n
        # Adding a location adds at least the split penalty: no better than the best so far.
        if plan and round(cost + penalty * len(plan), 3) > best_key[0]:
            return
        line = next(i for i, r in enumerate(remaining) if r)
        in_plan = {p.candidate.code for p in plan}
        options = sorted((s for s in pool if s.gives[line] and s.candidate.code not in in_plan),
                         key=lambda s: (-share(remaining, s), s.score, s.candidate.code))
        for s in options[:BRANCH_WIDTH]:
            codes = frozenset([*(p.candidate.code for p in plan), s.candidate.code])
            if codes in seen:
                continue
            seen.add(codes)
            plan.append(s)
            explore(plan, left_after(remaining, s), cost + s.score)
            plan.pop()

    explore([], quantities, 0.0)
    return best, partial


def _best_suppliers(scored: Sequence[Scored], line: int, quantity: int) -> list[Scored]:
    """Locations with some of a line: those with all of it first, then by score."""
    def key(s: Scored) -> tuple[bool, float, str]:
        return (s.gives[line] < quantity, s.score, s.candidate.code)

    return sorted((s for s in scored if s.gives[line]), key=key)


def _allocate(
    demand: Demand, plan: Sequence[Scored]
) -> tuple[list[Allocation], set[str]]:
    """Each line whole at the best-scored location of the plan that can, else in score order."""
    ordered = sorted(plan, key=rank)
    allocations: list[Allocation] = []
    for i, (sku, quantity) in enumerate(demand):
        whole = next((s for s in ordered if s.gives[i] >= quantity), None)
        if whole is not None:
            allocations.append(Allocation(whole.candidate.code, sku, quantity))
            continue
        remaining = quantity
        for s in ordered:
            take = min(remaining, s.gives[i])
            if take > 0:
                allocations.append(Allocation(s.candidate.code, sku, take))
                remaining -= take
            if remaining == 0:
                break
    return allocations, {a.location for a in allocations}
