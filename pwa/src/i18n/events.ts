/** The staff's words for an event type: keyed by the type, from the server's registry. */
import { EVENT_LABEL_KEYS, isEventType, type EventType } from "../api/events.gen";
import { t, type MessageKey } from "./index";

// Does not compile when a type the server records has no English label (en.ts), and fr.ts
// must have every key en.ts has: a new event type needs its words in both before a build.
type Unlabelled = Exclude<(typeof EVENT_LABEL_KEYS)[EventType], MessageKey>;
export const EVERY_EVENT_TYPE_LABELLED: [Unlabelled] extends [never] ? true : Unlabelled = true;

/** The label of an event type; a type this build does not know shows as itself. */
export function eventLabel(type: string): string {
  return isEventType(type) ? t(EVENT_LABEL_KEYS[type]) : type;
}
