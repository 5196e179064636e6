/** A screen follows a topic of the live feed while it is shown. */
import { useEffect, useRef } from "preact/hooks";

import { follow, type LiveEvent } from "./feed";

export function useFollow(topic: string | null, onEvent: (event: LiveEvent) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!topic) return;
    return follow(topic, (event) => handler.current(event));
  }, [topic]);
}
