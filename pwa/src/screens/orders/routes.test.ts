import { describe, expect, it } from "vitest";

import { activeNavPath } from "../../navigation";
import { matchRoute, paths } from "../../routes";

describe("the orders' routes", () => {
  it("opens the list, an order by its number, and the dashboard", () => {
    expect(matchRoute("/orders")).toEqual({ screen: "orders" });
    expect(matchRoute(paths.order("CMP-2026-000042"))).toEqual({ screen: "order", number: "CMP-2026-000042" });
    expect(matchRoute("/dashboard")).toEqual({ screen: "dashboard" });
  });

  it("lights Orders in the navigation on an order's page", () => {
    expect(activeNavPath("/orders/CMP-2026-000042")).toBe(paths.orders);
  });
});
