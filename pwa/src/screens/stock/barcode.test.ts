import { ZXING_WASM_SHA256, ZXING_WASM_VERSION } from "barcode-detector/ponyfill";
import { describe, expect, it } from "vitest";

// Node built-ins, named through a variable: the app's type checking knows only the browser.
const nodeModule = (name: string) => import(/* @vite-ignore */ name);

describe("the scanner's fallback", () => {
  it("ships the exact WebAssembly build barcode-detector was made for (served by us, not a CDN)", async () => {
    const { readFile } = (await nodeModule("node:fs/promises")) as {
      readFile(path: string): Promise<Uint8Array<ArrayBuffer>>;
    };
    const { createRequire } = (await nodeModule("node:module")) as {
      createRequire(from: string): { resolve(id: string): string };
    };
    const wasmPath = createRequire(import.meta.url).resolve("zxing-wasm/reader/zxing_reader.wasm");
    // dist/reader/zxing_reader.wasm → the package's own package.json
    const packageJson = new URL("../../package.json", `file://${wasmPath}`).pathname;
    const { version } = JSON.parse(new TextDecoder().decode(await readFile(packageJson))) as {
      version: string;
    };
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", await readFile(wasmPath)));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");

    expect(version).toBe(ZXING_WASM_VERSION);
    expect(hex).toBe(ZXING_WASM_SHA256);
  });
});
