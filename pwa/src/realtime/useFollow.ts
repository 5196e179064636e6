/** A screen follows a topic of the live feed while it is shown. */
import { useEffect, useRef } from "preact/hooks";

import { feedGeneration, follow, type LiveEvent } from "./feed";

export function useFollow(topic: string | null, onEvent: (event: LiveEvent) => void): void {
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    if (!topic) return;
    return follow(topic, (event) => handler.current(event));
  }, [topic]);
}

/**
 * Runs `onReturn` each time the feed comes back after it was down: what happened meanwhile was
 * not heard, so the screen reads it again. Not for the first reading, which the screen makes
 * itself when it opens.
 */
export function useFeedReturn(onReturn: () => void): void {
  const handler = useRef(onReturn);
  handler.current = onReturn;
  const generation = feedGeneration.value;
  const seen = useRef(generation);
  useEffect(() => {
    if (generation === seen.current) return;
    seen.current = generation;
    handler.current();
  }, [generation]);
}
