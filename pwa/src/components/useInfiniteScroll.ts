/** Infinite scroll: the next page loads when the end of a list comes near the screen. */
import { useEffect, useRef } from "preact/hooks";

/** How far below the screen the end of the list starts the next page. */
const AHEAD = "400px 0px";

/**
 * Returns the ref of an empty element to put after the list's last row. While `enabled`
 * (there is a next page to read), `loadMore` runs when that element comes within reach.
 *
 * The observer is made anew for every page (`page` changes, e.g. `${items.length}`): a new
 * observer reports at once whether the end is already near (a short page on a tall screen),
 * which a kept one would not, having said so before.
 */
export function useInfiniteScroll(enabled: boolean, page: string, loadMore: () => unknown) {
  const sentinel = useRef<HTMLDivElement>(null);
  const load = useRef(loadMore);
  load.current = loadMore;
  useEffect(() => {
    const node = sentinel.current;
    if (!enabled || !node || typeof IntersectionObserver === "undefined") return;
    const observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void load.current();
      },
      { rootMargin: AHEAD },
    );
    observer.observe(node);
    return () => observer.disconnect();
  }, [enabled, page]);
  return sentinel;
}
