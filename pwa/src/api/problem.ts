/** Turning a failed API call into one sentence a person can act on. */
import { catalogs } from "../i18n";
import { problemTexts } from "../i18n/problems";
import { interpolate, translate, type Locale, type Params } from "../i18n/translate";
import { ERROR_CODES, errorMessages, type ErrorCode } from "./errors.gen";

/** An RFC 9457 problem, as the server sends it (`application/problem+json`). */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  code?: string;
  detail?: string;
  [field: string]: unknown;
}

export function isProblem(body: unknown): body is Problem {
  return (
    typeof body === "object" &&
    body !== null &&
    (typeof (body as Problem).detail === "string" || typeof (body as Problem).code === "string")
  );
}

/** The server answered with an error status. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null) {
    super(problem?.detail ?? `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem;
  }

  get code(): string | undefined {
    return this.problem?.code;
  }
}

/** The request never got an answer (no network, server down, connection cut). */
export class NetworkError extends Error {
  constructor(cause?: unknown) {
    super("network error", { cause });
    this.name = "NetworkError";
  }
}

/** The problem's plain fields (`on_hand`, `location`…) for a translated sentence. */
function problemFields(problem: Problem | null): Params {
  const fields: Params = {};
  for (const [name, value] of Object.entries(problem ?? {})) {
    if (typeof value === "string" || typeof value === "number") fields[name] = value;
  }
  return fields;
}

const isErrorCode = (code: string): code is ErrorCode =>
  (ERROR_CODES as readonly string[]).includes(code);

/**
 * A refusal's code in a language other than English: the hand-written sentence with its
 * figures (i18n/problems.ts), else what the code means (the server's catalogue, errors.gen.ts).
 * English reads the server's own `detail`, which says more.
 */
function localizedText(code: string | undefined, locale: Locale): string | undefined {
  if (!code) return undefined;
  const written = problemTexts[locale]?.[code];
  if (written || locale === "en" || !isErrorCode(code)) return written;
  return errorMessages[locale][code];
}

/**
 * The sentence to show for `error`: the server's own words (its `detail`, or a translation
 * of its `code` in a language other than English), else a sentence chosen by status.
 */
export function describeError(error: unknown, locale: Locale): string {
  const say = (key: Parameters<typeof translate>[2], params?: Record<string, number>) =>
    translate(catalogs, locale, key, params);
  if (error instanceof NetworkError) return say("error.network");
  if (error instanceof ApiError) {
    const code = error.problem?.code;
    const localized = localizedText(code, locale);
    if (localized) return interpolate(localized, problemFields(error.problem));
    if (error.status >= 500) return say("error.server");
    const detail = error.problem?.detail?.trim();
    if (detail) return detail;
    return say("error.status", { status: error.status });
  }
  return say("error.unknown");
}
