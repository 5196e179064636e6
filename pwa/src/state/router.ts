/** The current path as a signal; in-app navigation without page loads (History API). */
import { signal } from "@preact/signals";

export const currentPath = signal<string>(location.pathname);

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === location.pathname) return;
  if (options.replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  currentPath.value = location.pathname;
  window.scrollTo(0, 0);
}

window.addEventListener("popstate", () => {
  currentPath.value = location.pathname;
});
