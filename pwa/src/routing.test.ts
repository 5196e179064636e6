import { describe, expect, it } from "vitest";

import { activeNavPath, navItemsFor } from "./navigation";
import { matchRoute, paths } from "./routes";
import { isAppRoute } from "./sw-routes";

describe("isAppRoute (the service worker's offline fallback)", () => {
  it("serves the app shell for the app's own pages, however deep", () => {
    expect(isAppRoute("/")).toBe(true);
    expect(isAppRoute("/orders/CMP-2026-000001")).toBe(true);
    expect(isAppRoute("/locations/ST-LYON-01")).toBe(true);
  });

  it("never answers the server's paths with the app shell", () => {
    for (const path of ["/api/orders", "/api", "/admin/", "/schema", "/ws", "/track/abc", "/health", "/ready"]) {
      expect(isAppRoute(path), path).toBe(false);
    }
  });

  it("never answers a file with the app shell", () => {
    expect(isAppRoute("/manifest.webmanifest")).toBe(false);
    expect(isAppRoute("/assets/index-abc.js")).toBe(false);
  });

  it("treats a page whose name merely starts like a server path as the app's", () => {
    expect(isAppRoute("/apiary")).toBe(true);
  });
});

describe("matchRoute", () => {
  it("reads a location code from its page's path", () => {
    expect(matchRoute("/locations/ST-LYON-01")).toEqual({ screen: "location", code: "ST-LYON-01" });
  });

  it("reads a SKU from its stock page's path, decoding what the link encoded", () => {
    expect(matchRoute("/stock")).toEqual({ screen: "stock" });
    expect(matchRoute(paths.sku("TEE BLK/M"))).toEqual({ screen: "sku", sku: "TEE BLK/M" });
    expect(matchRoute("/outbox")).toEqual({ screen: "outbox" });
    expect(matchRoute("/reviews")).toEqual({ screen: "reviews" });
  });

  it("opens the reconciliation from its path, and lights its top-bar entry there", () => {
    expect(matchRoute(paths.reconciliation)).toEqual({ screen: "reconciliation" });
    expect(matchRoute("/reports/reconciliation/")).toEqual({ screen: "reconciliation" });
    expect(activeNavPath(paths.reconciliation)).toBe("/reports/reconciliation");
    expect(isAppRoute(paths.reconciliation)).toBe(true);
  });

  it("sends an unknown path to the not-found screen", () => {
    expect(matchRoute("/nowhere")).toEqual({ screen: "not-found" });
  });
});

describe("activeNavPath", () => {
  it("lights the entry a page belongs to", () => {
    expect(activeNavPath("/locations/WH-PARIS")).toBe("/");
    expect(activeNavPath("/account")).toBe("/account");
    expect(activeNavPath("/stock/TEE-BLK-M")).toBe("/stock");
    expect(activeNavPath("/outbox")).toBe("/stock");
    expect(activeNavPath("/reviews")).toBe("/reviews");
    expect(activeNavPath("/nowhere")).toBeNull();
  });
});

describe("navItemsFor", () => {
  it("keeps the bottom bar to five entries at most, the account going to the top bar", () => {
    for (const role of ["admin", "manager", "associate"]) {
      expect(navItemsFor(role).length).toBeLessThanOrEqual(5);
      expect(navItemsFor(role).map((item) => item.path)).not.toContain("/account");
    }
    expect(navItemsFor("associate", true).map((item) => item.path)).toEqual(["/account"]);
    // The fraud review queue and the day's reconciliation are the managers' (the API refuses
    // them to associates too).
    for (const role of ["admin", "manager"]) {
      expect(navItemsFor(role, true).map((item) => item.path)).toEqual(["/reviews", "/reports/reconciliation", "/account"]);
    }
    expect(navItemsFor("associate").map((item) => item.path)).not.toContain("/dashboard");
    expect(navItemsFor("manager").map((item) => item.path)).toContain("/dashboard");
  });
});
