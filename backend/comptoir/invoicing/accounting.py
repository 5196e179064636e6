"""The accounting export of issued invoices and credit notes (pure: statements in, text out).

Three layouts of the same facts, read only from each document's ``Statement``:

* ``csv`` and ``json``: one row per document and VAT rate (date, number, kind, the
  invoice a credit note corrects, order, customer, rate, net, VAT, gross, currency), amounts
  in minor units as integers; a credit note's amounts are negative here, so a period's
  rows sum to what it invoiced net of credits.
* ``fec``: the French *Fichier des écritures comptables* (article A47 A-1 of the Livre des
  procédures fiscales): its 18 columns, tab-separated, one balanced journal entry per
  document in the sales journal. An invoice debits the customers' account with the gross
  and credits, per VAT rate, the sales account with the net and the VAT account with the
  VAT; a credit note does the reverse. Amounts are written with a decimal comma and no
  thousands separator, dates as YYYYMMDD; the file is encoded in ISO-8859-15, as the
  text says.

Entries are numbered in the order the documents are given (the caller gives them by issue
time, then number), so the same period always gives the same file.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import msgspec

from comptoir.invoicing.snapshot import Statement

__all__ = ["FEC_COLUMNS", "Accounts", "ExportFormat", "Row", "rows", "to_csv", "to_fec",
           "to_json"]


class ExportFormat(StrEnum):
    FEC = "fec"
    CSV = "csv"
    JSON = "json"


FEC_COLUMNS = (
    "JournalCode", "JournalLib", "EcritureNum", "EcritureDate", "CompteNum", "CompteLib",
    "CompAuxNum", "CompAuxLib", "PieceRef", "PieceDate", "EcritureLib", "Debit", "Credit",
    "EcritureLet", "DateLet", "ValidDate", "Montantdevise", "Idevise",
)


@dataclass(frozen=True, slots=True)
class Accounts:
    """The general ledger accounts the entries use (the company configuration's).

    ``sales`` and ``vat`` map a rate (basis points) to its account; a rate not listed
    uses ``default_sales`` or ``default_vat``."""

    customers: str = "411000"
    customers_label: str = "Clients"
    default_sales: str = "707000"
    default_vat: str = "445710"
    sales: Mapping[int, str] = field(default_factory=dict)
    vat: Mapping[int, str] = field(default_factory=dict)
    journal: str = "VT"
    journal_label: str = "Ventes"

    def sales_account(self, rate_bp: int) -> str:
        return self.sales.get(rate_bp, self.default_sales)

    def vat_account(self, rate_bp: int) -> str:
        return self.vat.get(rate_bp, self.default_vat)


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One document's amounts at one VAT rate (negative for a credit note)."""

    date: dt.date
    number: str
    kind: str
    corrects: str
    order_number: str
    customer: str
    vat_rate_bp: int
    net: int
    vat: int
    gross: int
    currency: str


def _sign(statement: Statement) -> int:
    return -1 if statement.kind == "credit_note" else 1


def _customer(statement: Statement) -> str:
    return statement.buyer.company or statement.buyer.name


def rows(statements: Iterable[Statement]) -> list[Row]:
    """Each document's VAT breakdown as rows, in the documents' order."""
    out: list[Row] = []
    for s in statements:
        sign = _sign(s)
        out.extend(
            Row(date=s.issue_date, number=s.number, kind=s.kind, corrects=s.corrects,
                order_number=s.order_number, customer=_customer(s), vat_rate_bp=rate.vat_rate_bp,
                net=sign * rate.net, vat=sign * rate.vat, gross=sign * rate.gross,
                currency=s.currency)
            for rate in s.rates)
    return out


def to_csv(statements: Iterable[Statement]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(Row.__struct_fields__)
    for row in rows(statements):
        writer.writerow([getattr(row, name) for name in Row.__struct_fields__])
    return out.getvalue()


def to_json(statements: Iterable[Statement]) -> bytes:
    return msgspec.json.encode(rows(statements))


def _amount(minor: int) -> str:
    """1234 -> "12,34" (FEC: decimal comma, no thousands separator, never negative)."""
    units, cents = divmod(abs(minor), 100)
    return f"{units},{cents:02d}"


def _date(day: dt.date) -> str:
    return day.strftime("%Y%m%d")


def _entry(number: int, s: Statement, accounts: Accounts) -> list[list[str]]:
    """The balanced entry of one document: debits equal credits to the cent."""
    credit_note = s.kind == "credit_note"
    label = (f"Avoir {s.number}" if credit_note else f"Facture {s.number}")[:100]
    entry_number = f"{accounts.journal}{number:06d}"
    customer = _customer(s)
    customer_account = (s.buyer.email or customer)[:40]  # the customer's auxiliary account

    def line(account: str, account_label: str, debit: int, credit: int, *,
             auxiliary: bool = False) -> list[str]:
        if credit_note:
            debit, credit = credit, debit
        foreign = s.currency != "EUR"  # amounts as stated, the currency said beside them
        return [
            accounts.journal, accounts.journal_label, entry_number, _date(s.issue_date),
            account, account_label, customer_account if auxiliary else "",
            customer if auxiliary else "", s.number, _date(s.issue_date), label,
            _amount(debit), _amount(credit), "", "", _date(s.issue_date),
            _amount(debit or credit) if foreign else "", s.currency if foreign else "",
        ]

    lines = [line(accounts.customers, accounts.customers_label, s.gross, 0, auxiliary=True)]
    for rate in s.rates:
        percent = f"{rate.vat_rate_bp / 100:g}".replace(".", ",")
        if rate.net:
            lines.append(line(accounts.sales_account(rate.vat_rate_bp),
                              f"Ventes TVA {percent} %", 0, rate.net))
        if rate.vat:
            lines.append(line(accounts.vat_account(rate.vat_rate_bp),
                              f"TVA collectée {percent} %", 0, rate.vat))
    return lines


def to_fec(statements: Sequence[Statement], accounts: Accounts) -> bytes:
    """The FEC text of the documents, ISO-8859-15 (characters it lacks become "?")."""
    out = ["\t".join(FEC_COLUMNS)]
    for number, statement in enumerate(statements, start=1):
        out.extend("\t".join(cell.replace("\t", " ") for cell in line)
                   for line in _entry(number, statement, accounts))
    return ("\r\n".join(out) + "\r\n").encode("iso-8859-15", errors="replace")
