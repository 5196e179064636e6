import { describe, expect, it } from "vitest";

import { isAppRoute } from "./sw-routes";

describe("isAppRoute with dots in names", () => {
  it("opens the app for a page whose name has a dot, as the server does", () => {
    for (const path of ["/stock/TEE.BLK.M", "/stock/TEE.BLK.M/", "/locations/ST.LYON.01", "/orders/CMP-2026-000001."]) {
      expect(isAppRoute(path), path).toBe(true);
    }
  });

  it("keeps the build's files and folders as files", () => {
    for (const path of ["/sw.js", "/favicon.ico", "/robots.txt", "/assets/index-abc.js", "/assets/missing", "/icons/icon-192.png"]) {
      expect(isAppRoute(path), path).toBe(false);
    }
  });
});
