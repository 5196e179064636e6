/** Which navigations the service worker answers with the app shell (shared with its tests). */

/** First path segments the server answers itself; keep in step with backend/comptoir/web/spa.py. */
export const SERVER_SEGMENTS: readonly string[] = [
  "api",
  "admin",
  "schema",
  "ws",
  "track",
  "health",
  "ready",
];

/** True for a path of the app (`/`, `/orders/CMP-2026-000001`), false for the server's own. */
export function isAppRoute(pathname: string): boolean {
  const segments = pathname.split("/");
  if (SERVER_SEGMENTS.includes(segments[1] ?? "")) return false;
  // A last segment with a dot is a file (`/manifest.webmanifest`): never the shell.
  return !(segments[segments.length - 1] ?? "").includes(".");
}
