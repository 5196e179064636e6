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

/** The build's folders: files only, never the shell. Same list as FILE_FOLDERS in spa.py. */
export const FILE_FOLDERS: readonly string[] = ["assets", "icons"];

/** True for a path of the app (`/`, `/stock/TEE.BLK.M`), false for a file or the server's own. */
export function isAppRoute(pathname: string): boolean {
  const segments = pathname.replace(/^\/+|\/+$/g, "").split("/");
  const first = segments[0] ?? "";
  if (SERVER_SEGMENTS.includes(first) || FILE_FOLDERS.includes(first)) return false;
  // Files sit at the top (`/manifest.webmanifest`, `/sw.js`); a dot deeper down is part of a
  // name the app shows (a SKU, a location code).
  return segments.length > 1 || !first.includes(".");
}
