"""The accounting export: FEC entries balance to the cent, CSV/JSON rows carry each document's
VAT breakdown, credit notes count against invoices."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from hypothesis import given
from hypothesis import strategies as st

from comptoir.invoicing.accounting import FEC_COLUMNS, Accounts, rows, to_csv, to_fec, to_json
from comptoir.invoicing.snapshot import Address, Buyer, RateTotal, Seller, Statement, Terms

SELLER = Seller(legal_name="Quai Neuf SAS", siret="12345678900012",
                address=Address(line1="3 quai Neuf", postal_code="69002", city="Lyon"))
DAY = dt.date(2026, 12, 3)


def statement(number: str, rates: list[tuple[int, int, int]], *, kind: str = "invoice",
              corrects: str = "", currency: str = "EUR") -> Statement:
    totals = tuple(RateTotal(vat_rate_bp=r, net=n, vat=v, gross=n + v) for r, n, v in rates)
    return Statement(
        kind=kind, number=number,  # type: ignore[arg-type]
        issued_at=dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC), issue_date=DAY,
        language="fr", currency=currency, seller=SELLER,
        buyer=Buyer(name="Léa Dubois", email="lea@example.fr"), lines=(), rates=totals,
        net=sum(t.net for t in totals), vat=sum(t.vat for t in totals),
        gross=sum(t.gross for t in totals), terms=Terms(due_date=DAY, paid=True),
        order_number="QN-2026-000042", corrects=corrects)


MIXED = statement("FA-2026-000001", [(2000, 4083, 817), (550, 1896, 104)])
CREDIT = statement("AV-2026-000001", [(550, 1896, 104)], kind="credit_note",
                   corrects="FA-2026-000001")


def fec_lines(data: bytes) -> list[dict[str, str]]:
    text = data.decode("iso-8859-15")
    assert text.endswith("\r\n")
    header, *lines = text.rstrip("\r\n").split("\r\n")
    assert header.split("\t") == list(FEC_COLUMNS)
    out = []
    for line in lines:
        cells = line.split("\t")
        assert len(cells) == 18, line
        out.append(dict(zip(FEC_COLUMNS, cells, strict=True)))
    return out


def cents(amount: str) -> int:
    units, fraction = amount.split(",")
    return int(units) * 100 + int(fraction)


def test_an_invoice_is_one_balanced_entry_on_customer_sales_and_vat_accounts() -> None:
    accounts = Accounts(sales={2000: "707100", 550: "707055"}, vat={2000: "445712",
                                                                    550: "445705"})
    lines = fec_lines(to_fec([MIXED], accounts))

    assert [(line["CompteNum"], line["Debit"], line["Credit"]) for line in lines] == [
        ("411000", "69,00", "0,00"),
        ("707100", "0,00", "40,83"), ("445712", "0,00", "8,17"),
        ("707055", "0,00", "18,96"), ("445705", "0,00", "1,04"),
    ]
    assert {line["EcritureNum"] for line in lines} == {"VT000001"}
    assert {line["PieceRef"] for line in lines} == {"FA-2026-000001"}
    assert {line["EcritureDate"] for line in lines} == {"20261203"}
    assert lines[0]["CompAuxLib"] == "Léa Dubois"  # ISO-8859-15 keeps the accent
    assert lines[2]["CompteLib"] == "TVA collectée 20 %"


def test_a_credit_note_reverses_its_amounts_and_follows_the_invoice() -> None:
    lines = fec_lines(to_fec([MIXED, CREDIT], Accounts()))
    credit = [line for line in lines if line["PieceRef"] == "AV-2026-000001"]

    assert {line["EcritureNum"] for line in credit} == {"VT000002"}
    assert [(line["CompteNum"], line["Debit"], line["Credit"]) for line in credit] == [
        ("411000", "0,00", "20,00"), ("707000", "18,96", "0,00"), ("445710", "1,04", "0,00"),
    ]
    assert credit[0]["EcritureLib"] == "Avoir AV-2026-000001"


def test_csv_and_json_give_one_row_per_document_and_rate_credit_notes_negative() -> None:
    table = list(csv.DictReader(io.StringIO(to_csv([MIXED, CREDIT]))))
    as_json = json.loads(to_json([MIXED, CREDIT]))

    assert [(r["number"], r["vat_rate_bp"], r["net"], r["vat"], r["gross"]) for r in table] == [
        ("FA-2026-000001", "2000", "4083", "817", "4900"),
        ("FA-2026-000001", "550", "1896", "104", "2000"),
        ("AV-2026-000001", "550", "-1896", "-104", "-2000"),
    ]
    assert as_json[2] == {
        "date": "2026-12-03", "number": "AV-2026-000001", "kind": "credit_note",
        "corrects": "FA-2026-000001", "order_number": "QN-2026-000042",
        "customer": "Léa Dubois", "vat_rate_bp": 550, "net": -1896, "vat": -104,
        "gross": -2000, "currency": "EUR"}
    assert sum(r.gross for r in rows([MIXED, CREDIT])) == MIXED.gross - CREDIT.gross


def test_a_foreign_currency_is_stated_beside_each_amount() -> None:
    lines = fec_lines(to_fec([statement("FA-2026-000002", [(2000, 1000, 200)],
                                        currency="CHF")], Accounts()))
    assert {(line["Idevise"]) for line in lines} == {"CHF"}
    assert [line["Montantdevise"] for line in lines] == ["12,00", "10,00", "2,00"]


rate_rows = st.lists(
    st.tuples(st.sampled_from([2000, 1000, 550, 210, 0]), st.integers(0, 10**8),
              st.integers(0, 10**7)),
    min_size=1, max_size=4, unique_by=lambda r: r[0])


@given(st.lists(st.tuples(rate_rows, st.booleans()), min_size=1, max_size=6))
def test_every_entry_balances_to_the_cent(documents: list[tuple[list[tuple[int, int, int]],
                                                                bool]]) -> None:
    statements = [statement(f"{'AV' if credit else 'FA'}-2026-{i:06d}", rates,
                            kind="credit_note" if credit else "invoice")
                  for i, (rates, credit) in enumerate(documents, start=1)]
    lines = fec_lines(to_fec(statements, Accounts()))

    for number in {line["EcritureNum"] for line in lines}:
        entry = [line for line in lines if line["EcritureNum"] == number]
        assert sum(cents(line["Debit"]) for line in entry) == sum(
            cents(line["Credit"]) for line in entry)
    assert len({line["EcritureNum"] for line in lines}) == len(statements)
    assert all(isinstance(r.net, int) and isinstance(r.gross, int) for r in rows(statements))
