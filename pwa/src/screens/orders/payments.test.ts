import { describe, expect, it } from "vitest";

import { paymentsEn as en } from "../../i18n/payments.en";
import { paymentsFr as fr } from "../../i18n/payments.fr";
import {
  PAYMENT_STATUSES,
  creditNoteNumbers,
  eurosInput,
  failureText,
  moneyActions,
  parseEuros,
  refundLines,
  refundedUnits,
  refusalText,
  statusTone,
} from "./payments";

const auth = (over: Partial<{ id: string; status: string; capturable: number }> = {}) => ({
  id: "a1",
  kind: "authorization",
  status: "succeeded",
  capturable: 10000,
  refundable: 0,
  ...over,
});

describe("payment status in words", () => {
  it("has a French and an English sentence for every status the server gives", () => {
    for (const status of PAYMENT_STATUSES) {
      expect(fr).toHaveProperty(`payments.status.${status}`);
      expect(en).toHaveProperty(`payments.status.${status}`);
    }
    expect(fr["payments.status.authorized"]).toBe("Autorisé");
    expect(fr["payments.status.partially_refunded"]).toBe("Remboursé en partie");
  });

  it("marks paid as settled, authorized as waiting and overpaid as something to look at", () => {
    expect(statusTone("paid")).toBe("good");
    expect(statusTone("authorized")).toBe("waiting");
    expect(statusTone("overpaid")).toBe("attention");
    expect(statusTone("refunded")).toBe("neutral");
    expect(statusTone("a_status_from_later")).toBe("neutral");
  });
});

describe("moneyActions", () => {
  it("lets a manager capture or release an authorization that still holds money", () => {
    const actions = moneyActions({ status: "authorized", capturable: 10000, refundable: 0 }, [auth()], true);
    expect(actions).toMatchObject({ capture: true, void: true, refund: false });
    expect(actions.open.map((tx) => tx.id)).toEqual(["a1"]);
  });

  it("offers a refund once money was captured and not given back, and nothing more to capture", () => {
    const txs = [auth({ capturable: 0 }), { id: "c1", kind: "capture", status: "succeeded", capturable: 0, refundable: 4000 }];
    expect(moneyActions({ status: "paid", capturable: 0, refundable: 4000 }, txs, true)).toMatchObject({
      capture: false,
      void: false,
      refund: true,
    });
  });

  it("offers nothing on an authorization still pending or failed", () => {
    for (const status of ["pending", "failed"]) {
      const actions = moneyActions({ status: "unpaid", capturable: 0, refundable: 0 }, [auth({ status })], true);
      expect(actions).toMatchObject({ capture: false, void: false, refund: false, open: [] });
    }
  });

  it("offers nothing to someone who is not a manager", () => {
    const actions = moneyActions({ status: "partially_captured", capturable: 5000, refundable: 5000 }, [auth({ capturable: 5000 })], false);
    expect(actions).toMatchObject({ capture: false, void: false, refund: false });
  });
});

describe("parseEuros", () => {
  it("reads euros and cents, with a comma or a point, spaces and a euro sign", () => {
    expect(parseEuros("12")).toBe(1200);
    expect(parseEuros("12,5")).toBe(1250);
    expect(parseEuros("12.50")).toBe(1250);
    expect(parseEuros("0,01")).toBe(1);
    expect(parseEuros(" 1 234,56 € ")).toBe(123456);
    expect(parseEuros("1\u202f000,00\u00a0€")).toBe(100000);
  });

  it("refuses what is not a positive amount to the cent", () => {
    for (const bad of ["", " ", "12,345", "-3", "+3", "0", "0,00", "abc", "12,", ",5", "1,2,3", "1e3", "12 euros", "Infinity", "NaN"]) {
      expect(parseEuros(bad), bad).toBeNull();
    }
  });

  it("gives back what it formats for the field", () => {
    expect(eurosInput(123456, "fr")).toBe("1234,56");
    expect(eurosInput(5, "en")).toBe("0.05");
    expect(parseEuros(eurosInput(99999, "fr"))).toBe(99999);
  });
});

describe("refundLines", () => {
  const lines = [
    { id: "l1", quantity: 3, cancelled_quantity: 1 },
    { id: "l2", quantity: 1, cancelled_quantity: 0 },
  ];

  it("names the lines with a quantity, and skips empty and zero fields", () => {
    expect(refundLines({ l1: "2", l2: "" }, lines)).toEqual([{ line_id: "l1", quantity: 2 }]);
    expect(refundLines({ l1: "0", l2: " 1 " }, lines)).toEqual([{ line_id: "l2", quantity: 1 }]);
    expect(refundLines({}, lines)).toEqual([]);
  });

  it("refuses a quantity that is not whole or more than the line still has", () => {
    expect(refundLines({ l1: "3" }, lines)).toBeNull(); // one of the three was cancelled
    expect(refundLines({ l1: "1.5" }, lines)).toBeNull();
    expect(refundLines({ l2: "-1" }, lines)).toBeNull();
  });
});

describe("words for codes", () => {
  it("says a provider's failure code in the person's language, or shows an unknown one as is", () => {
    expect(failureText("card_declined", "fr")).toBe("La banque a refusé la carte.");
    expect(failureText("insufficient_funds", "en")).toBe("The card's funds are insufficient.");
    expect(failureText("processing_error_42", "fr")).toBe("processing_error_42");
  });

  it("gives the catalogue's sentence for a refusal's code, in French and English", () => {
    const problem = { status: 409, code: "capture_exceeds_authorized", detail: "Only 5000 can still be captured, not 9000." };
    expect(refusalText(problem, "fr")).toBe("On ne peut pas débiter plus que ce qui reste autorisé.");
    expect(refusalText(problem, "en")).toBe("You cannot capture more than is still authorised.");
    expect(refusalText({ status: 409, code: "something_new" }, "en")).toBeNull();
    expect(refusalText(null, "en")).toBeNull();
  });

  it("lists a refund's units by SKU, and ignores what it cannot read", () => {
    expect(refundedUnits([{ sku: "CARNET-05", quantity: 2, amount: 1300 }, { sku: 3 }])).toEqual(["CARNET-05 \u00d7 2"]);
    expect(refundedUnits(null)).toEqual([]);
  });

  it("splits a refund's credit notes into their numbers", () => {
    expect(creditNoteNumbers("AV-2026-000001, AV-2026-000002")).toEqual(["AV-2026-000001", "AV-2026-000002"]);
    expect(creditNoteNumbers(null)).toEqual([]);
  });
});
