"""Report endpoints (managers): the day's reconciliation, as JSON and as CSV."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy.ext.asyncio import AsyncSession

from comptoir.auth.guards import MANAGERS, allow
from comptoir.db.base import utcnow
from comptoir.reports import service
from comptoir.reports.schemas import ReconciliationOut
from comptoir.tracking.wording import negotiate

__all__ = ["ReportsController"]

DESCRIPTION = (
    "For a day of the retailer's calendar (`date`, YYYY-MM-DD, Europe/Paris; today by "
    "default): goods shipped or handed over and not captured (and those of orders with no "
    "payment at all), captures not invoiced, refunds without a credit note, orders whose "
    "invoiced amount (net of credit notes) is not what was captured (net of refunds), and "
    "provider calls unanswered for more than an hour (any day). Each section lists its "
    "orders with their amounts in minor units and its totals per currency. `lang` (fr or "
    "en, else the browser's) is the language of each finding's `detail`. 422 invalid_date "
    "for a date that is not a day.")


async def _report(request: Request[Any, Any, Any], db_session: AsyncSession,
                  date: str | None, lang: str | None) -> ReconciliationOut:
    now = utcnow()
    language = service.language_asked(lang, negotiate(request.headers.get("accept-language")))
    return await service.reconciliation(db_session, service.day_asked(date, now), now=now,
                                        language=language)


class ReportsController(Controller):
    path = "/api/reports"
    tags = ["reports"]

    @get("/reconciliation", opt=allow(MANAGERS), summary="The day's reconciliation",
         description=DESCRIPTION)
    async def reconciliation(self, request: Request[Any, Any, Any],
                             db_session: AsyncSession, date: str | None = None,
                             lang: str | None = None) -> ReconciliationOut:
        return await _report(request, db_session, date, lang)

    @get("/reconciliation.csv", opt=allow(MANAGERS), media_type="text/csv",
         summary="The day's reconciliation as CSV",
         description=("The same findings as `GET /api/reports/reconciliation`, one row per "
                      "finding: section, order number, currency, amount, expected, actual "
                      "(decimal, with a point), detail, transaction id."))
    async def reconciliation_csv(self, request: Request[Any, Any, Any],
                                 db_session: AsyncSession, date: str | None = None,
                                 lang: str | None = None) -> Response[bytes]:
        report = await _report(request, db_session, date, lang)
        return Response(service.to_csv(report).encode(), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition":
                                 f'attachment; filename="{service.csv_filename(report.date)}"'})
