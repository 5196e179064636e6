import { describe, expect, it } from "vitest";

import { describeError, ApiError } from "../../api/problem";
import { checkPickupCode, ID_NOT_CHECKED, WRONG_CODE, type PickupCodeCheck } from "./counter";

// Made by the server's fulfillment/counter.py (Python's hashlib): code K7M2PQ9X, salt
// "comptoir-salt-16". What the phone computes with WebCrypto must agree with it.
const SALT = "Y29tcHRvaXItc2FsdC0xNg";
const QUICK: PickupCodeCheck = {
  algorithm: "PBKDF2-SHA256",
  iterations: 1000,
  salt: SALT,
  hash: "s9GNhA6EANv67f2bZDggxCi-_783AD0vKvqxIzxXO0s",
};
const AS_SERVED: PickupCodeCheck = {
  algorithm: "PBKDF2-SHA256",
  iterations: 100_000,
  salt: SALT,
  hash: "a7NRupq0TRUNhb1ZIJkX7hxJAPgZ-0q7g1PXcfqQt74",
};

describe("checking a pickup code without the network", () => {
  it("accepts the code the server hashed, with the iterations it serves", async () => {
    expect(await checkPickupCode("K7M2PQ9X", AS_SERVED)).toBe("matches");
  });

  it("accepts the code as a person types it: lower case, spaces, dashes", async () => {
    expect(await checkPickupCode(" k7m2-pq9x ", QUICK)).toBe("matches");
    expect(await checkPickupCode("K7M2 PQ9X", QUICK)).toBe("matches");
  });

  it("refuses any other code", async () => {
    expect(await checkPickupCode("K7M2PQ9Y", QUICK)).toBe("wrong");
    expect(await checkPickupCode("K7M2PQ9", QUICK)).toBe("wrong");
    expect(await checkPickupCode("   ", QUICK)).toBe("wrong");
    // The same code under another salt is another hash.
    expect(await checkPickupCode("K7M2PQ9X", { ...QUICK, salt: "c2FsdA" })).toBe("wrong");
  });

  it("cannot tell without a check, with an algorithm it does not know, or without WebCrypto", async () => {
    expect(await checkPickupCode("K7M2PQ9X", null)).toBe("unverifiable");
    expect(await checkPickupCode("K7M2PQ9X", { ...QUICK, algorithm: "ARGON2" as "PBKDF2-SHA256" })).toBe("unverifiable");
    expect(await checkPickupCode("K7M2PQ9X", QUICK, null)).toBe("unverifiable");
    expect(await checkPickupCode("K7M2PQ9X", { ...QUICK, iterations: 0 })).toBe("unverifiable");
  });
});

describe("the counter's own refusals", () => {
  it("say what the server says, in French and in English", () => {
    const say = (problem: typeof WRONG_CODE, locale: "fr" | "en") =>
      describeError(new ApiError(problem.status ?? 400, problem), locale);
    expect(say(WRONG_CODE, "fr")).toBe(
      "Ce code de retrait ne correspond pas à la commande : vérifiez-le avec le client, ou demandez à un responsable de remettre sans le code.",
    );
    expect(say(WRONG_CODE, "en")).toBe(
      "This pickup code does not match the order; check it with the customer, or ask a manager to override.",
    );
    expect(say(ID_NOT_CHECKED, "fr")).toMatch(/pièce d'identité/);
    expect(say(ID_NOT_CHECKED, "en")).toMatch(/ID/);
  });
});
