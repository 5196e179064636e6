import { describe, expect, it } from "vitest";

import { ApiError, describeError, isProblem, NetworkError } from "./problem";

const wrongPassword = new ApiError(401, {
  type: "https://comptoir.dev/problems/bad-credentials",
  title: "Not authenticated",
  status: 401,
  code: "bad_credentials",
  detail: "Wrong username or password.",
});

describe("describeError", () => {
  it("shows the server's own sentence in English", () => {
    expect(describeError(wrongPassword, "en")).toBe("Wrong username or password.");
  });

  it("translates a known refusal code into French", () => {
    expect(describeError(wrongPassword, "fr")).toBe("Identifiant ou mot de passe incorrect.");
  });

  it("falls back to the server's detail for a code with no translation", () => {
    const refusal = new ApiError(409, { code: "order_not_cancellable", detail: "Already shipped." });
    expect(describeError(refusal, "fr")).toBe("Already shipped.");
  });

  it("translates any code the server knows into French, with its catalogue's sentence", () => {
    const refusal = new ApiError(422, { code: "unknown_carrier", detail: "Unknown carrier 'ups'." });
    expect(describeError(refusal, "fr")).toBe("Ce transporteur est inconnu.");
    expect(describeError(refusal, "en")).toBe("Unknown carrier 'ups'.");
  });

  it("puts the refusal's own figures into the translated sentence", () => {
    const refusal = new ApiError(409, {
      code: "stock_reserved",
      detail: "TEE at WH-PARIS: 4 of the 6 on hand are reserved for orders.",
      on_hand: 6,
      reserved: 4,
    });
    expect(describeError(refusal, "fr")).toBe(
      "4 des 6 unités en stock sont réservées pour des commandes : le stock ne peut pas descendre en dessous.",
    );
  });

  it("says the network is down when the request got no answer", () => {
    expect(describeError(new NetworkError(new TypeError("Failed to fetch")), "en")).toMatch(
      /no network/i,
    );
    expect(describeError(new NetworkError(), "fr")).toMatch(/pas de réseau/i);
  });

  it("hides server internals behind a plain sentence for a 5xx", () => {
    const crash = new ApiError(502, null);
    expect(describeError(crash, "en")).toMatch(/nothing was changed/);
  });

  it("names the status when the error has no problem body", () => {
    expect(describeError(new ApiError(418, null), "en")).toBe("Something went wrong (HTTP 418).");
  });

  it("has a sentence even for an error it knows nothing about", () => {
    expect(describeError(new Error("boom"), "fr")).toBe("Une erreur s'est produite.");
  });
});

describe("isProblem", () => {
  it("recognises a problem+json body and rejects other bodies", () => {
    expect(isProblem({ code: "not_found", detail: "Nothing at /x." })).toBe(true);
    expect(isProblem("Not Found")).toBe(false);
    expect(isProblem(null)).toBe(false);
    expect(isProblem({ message: "hi" })).toBe(false);
  });
});
