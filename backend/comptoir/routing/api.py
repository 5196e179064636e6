"""Routing endpoints: simulate the policy on a hypothetical order, show the policy, and an
order's stored decisions."""

from __future__ import annotations

from litestar import Controller, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, allow
from comptoir.routing import decisions, simulation
from comptoir.routing.schemas import DecisionOut, PolicyOut, SimulateIn, StoredDecisionOut

__all__ = ["RoutingController"]


class RoutingController(Controller):
    path = "/api/routing"
    tags = ["routing"]

    @post("/simulate", opt=allow(MANAGERS), status_code=200,
          summary="Where the policy would send an order, and why (nothing is reserved)")
    async def simulate(self, data: SimulateIn, db_session: AsyncSession) -> DecisionOut:
        return await simulation.simulate(db_session, data)

    @get("/policy", opt=allow(MANAGERS), summary="The routing policy and capacity left today")
    async def policy(self, db_session: AsyncSession) -> PolicyOut:
        return await simulation.policy_view(db_session)

    @get("/decisions/{order_number:str}", opt=allow(MANAGERS),
         summary="An order's routing decisions: candidates, scores and the winning reason")
    async def decisions(self, order_number: str, db_session: AsyncSession
                        ) -> list[StoredDecisionOut]:
        return await decisions.decisions_for_order(db_session, order_number)
