/** A barcode reader: the browser's own BarcodeDetector, else the ZXing fallback loaded on demand. */

export interface DetectedCode {
  rawValue: string;
}

export interface Detector {
  detect(source: HTMLVideoElement): Promise<DetectedCode[]>;
}

interface NativeDetectorClass {
  new (options: { formats: string[] }): Detector;
  getSupportedFormats(): Promise<string[]>;
}

// Retail product codes first, then the codes stores print on shelf labels and parcels.
const FORMATS = [
  "ean_13",
  "ean_8",
  "upc_a",
  "upc_e",
  "code_128",
  "code_39",
  "itf",
  "qr_code",
  "data_matrix",
] as const;

async function nativeDetector(): Promise<Detector | null> {
  const Native = (globalThis as { BarcodeDetector?: NativeDetectorClass }).BarcodeDetector;
  if (!Native) return null;
  try {
    const supported = await Native.getSupportedFormats();
    const formats = FORMATS.filter((f) => supported.includes(f));
    return formats.length ? new Native({ formats }) : null;
  } catch {
    return null;
  }
}

/**
 * The reader to use. Only Chrome on Android (and a few others) has BarcodeDetector; elsewhere
 * the `barcode-detector` package and its WebAssembly are fetched now, never with the app.
 * The WebAssembly comes from this server (built into assets/), not from a CDN.
 */
export async function createDetector(): Promise<Detector> {
  const native = await nativeDetector();
  if (native) return native;
  const [{ BarcodeDetector, prepareZXingModule }, wasm] = await Promise.all([
    import("barcode-detector/ponyfill"),
    import("zxing-wasm/reader/zxing_reader.wasm?url"),
  ]);
  prepareZXingModule({
    overrides: {
      locateFile: (path: string, prefix: string) => (path.endsWith(".wasm") ? wasm.default : prefix + path),
    },
  });
  return new BarcodeDetector({ formats: [...FORMATS] });
}
