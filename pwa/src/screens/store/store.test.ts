import { describe, expect, it } from "vitest";

import type { OutboxEntry } from "../../offline/outbox";
import {
  actionsFor,
  allPicked,
  groupQueue,
  normalisePickupCode,
  pickOne,
  projectedStatus,
  startOfToday,
  type Fulfillment,
  type FulfillmentLine,
} from "./store";

const NOW = Date.parse("2026-11-26T15:00:00");

function work(id: string, status: string, extra: Partial<Fulfillment> = {}): Fulfillment {
  return {
    id,
    order_number: `CMP-2026-${id}`,
    location: "ST-LYON-01",
    kind: "pickup",
    status,
    allowed_actions: [],
    created_at: "2026-11-26T09:00:00Z",
    lines: [],
    id_check_required: false,
    ...extra,
  };
}

const TEE: FulfillmentLine = { sku: "TEE-M", name: "T-shirt M", barcode: "3760123450012", quantity: 2, shipped_quantity: 0, rejected_quantity: 0 };
const MUG: FulfillmentLine = { sku: "MUG", name: "Mug", barcode: null, quantity: 1, shipped_quantity: 0, rejected_quantity: 0 };

function entry(kind: string, fulfillment: string, status: OutboxEntry["status"]): OutboxEntry {
  return {
    id: `${kind}-${status}`,
    owner: "u1",
    kind,
    subject: "CMP-2026-000001",
    params: { fulfillment, number: "CMP-2026-000001" },
    request: { method: "POST", url: `/api/fulfillments/${fulfillment}/x` },
    status,
    createdAt: 0,
    attempts: 0,
    nextAttemptAt: 0,
  };
}

describe("groupQueue", () => {
  it("puts each piece of work in the group the counter works it from", () => {
    const groups = groupQueue(
      [
        work("1", "new"),
        work("2", "picking"),
        work("3", "packed", { kind: "ship" }),
        work("4", "ready_for_pickup"),
        work("5", "handed_over", { handed_over_at: new Date(NOW - 3600_000).toISOString() }),
        work("6", "cancelled"),
      ],
      NOW,
    );
    expect(groups.toPick.map((w) => w.id)).toEqual(["1"]);
    expect(groups.picking.map((w) => w.id)).toEqual(["2", "3"]);
    expect(groups.ready.map((w) => w.id)).toEqual(["4"]);
    expect(groups.collected.map((w) => w.id)).toEqual(["5"]);
  });

  it("shows only today's handovers as collected, the latest first", () => {
    const groups = groupQueue(
      [
        work("old", "handed_over", { handed_over_at: new Date(NOW - 2 * 86400_000).toISOString() }),
        work("early", "handed_over", { handed_over_at: new Date(NOW - 5 * 3600_000).toISOString() }),
        work("late", "handed_over", { handed_over_at: new Date(NOW - 600_000).toISOString() }),
      ],
      NOW,
    );
    expect(groups.collected.map((w) => w.id)).toEqual(["late", "early"]);
  });

  it("puts the customers who are here first among the parcels ready", () => {
    const groups = groupQueue(
      [
        work("a", "ready_for_pickup", { ready_at: "2026-11-26T08:00:00Z" }),
        work("b", "ready_for_pickup", { ready_at: "2026-11-26T10:00:00Z", customer_arrived_at: "2026-11-26T14:55:00Z" }),
      ],
      NOW,
    );
    expect(groups.ready.map((w) => w.id)).toEqual(["b", "a"]);
  });
});

describe("projectedStatus", () => {
  it("moves the status on by the actions this phone has not sent yet, in order", () => {
    const entries = [entry("fulfillment.pick", "f1", "pending"), entry("fulfillment.ready", "f1", "pending")];
    expect(projectedStatus("new", entries)).toBe("ready_for_pickup");
  });

  it("ignores actions the server already answered (its status says the rest)", () => {
    const entries = [entry("fulfillment.pick", "f1", "sent"), entry("fulfillment.handover", "f1", "failed")];
    expect(projectedStatus("picking", entries)).toBe("picking");
  });

  it("counts an action accepted after the status was read, until the next read", () => {
    const sent = { ...entry("fulfillment.ready", "f1", "sent"), sentAt: 2_000 };
    expect(projectedStatus("picking", [sent], 1_000)).toBe("ready_for_pickup");
    expect(projectedStatus("ready_for_pickup", [sent], 3_000)).toBe("ready_for_pickup");
    expect(projectedStatus("picking", [sent], 3_000)).toBe("picking");
  });

  it("keeps only the fulfillment's own actions", () => {
    const entries = [entry("fulfillment.pick", "f1", "pending"), entry("fulfillment.pick", "f2", "pending"), entry("stock.adjust", "f1", "pending")];
    expect(actionsFor(entries, "f1").map((e) => e.kind)).toEqual(["fulfillment.pick"]);
  });
});

describe("pickOne", () => {
  it("counts a unit by its barcode, or by its SKU when it has none", () => {
    let { picks, result } = pickOne([TEE, MUG], {}, " 3760123450012 ");
    expect(result).toMatchObject({ outcome: "picked", picked: 1 });
    ({ picks, result } = pickOne([TEE, MUG], picks, "mug"));
    expect(result).toMatchObject({ outcome: "picked", picked: 1 });
    expect(picks).toEqual({ "TEE-M": 1, MUG: 1 });
    expect(allPicked([TEE, MUG], picks)).toBe(false);
    ({ picks } = pickOne([TEE, MUG], picks, "3760123450012"));
    expect(allPicked([TEE, MUG], picks)).toBe(true);
  });

  it("never counts more units than the line has, nor an item that is not on the list", () => {
    const full = { "TEE-M": 2 };
    expect(pickOne([TEE], full, "3760123450012")).toEqual({ picks: full, result: { outcome: "complete", line: TEE } });
    expect(pickOne([TEE], {}, "0000000000000").result).toEqual({ outcome: "unknown" });
  });
});

describe("normalisePickupCode", () => {
  it("reads a code as the server compares it", () => {
    expect(normalisePickupCode(" k7m-q2 x9 ")).toBe("K7MQ2X9");
  });
});

describe("the store's paths", () => {
  it("open the queue and one piece of work, and light the Store entry", async () => {
    const { matchRoute, paths } = await import("../../routes");
    const { activeNavPath } = await import("../../navigation");
    expect(matchRoute(paths.store)).toEqual({ screen: "store" });
    expect(matchRoute(paths.fulfillment("0193a0e4-7c1d-7000-8000-000000000001"))).toEqual({
      screen: "fulfillment",
      id: "0193a0e4-7c1d-7000-8000-000000000001",
    });
    expect(activeNavPath(paths.fulfillment("x"))).toBe(paths.store);
  });
});

describe("collected today", () => {
  it("asks from the phone's midnight, whatever the hour", () => {
    const evening = new Date(2026, 10, 26, 23, 59, 30).getTime();
    const since = new Date(startOfToday(evening));
    expect([since.getFullYear(), since.getMonth(), since.getDate()]).toEqual([2026, 10, 26]);
    expect([since.getHours(), since.getMinutes(), since.getSeconds()]).toEqual([0, 0, 0]);
    expect(startOfToday(evening)).toMatch(/Z$/);
  });
});
