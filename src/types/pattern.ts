/** The public types that check a topic pattern against a typed event map. */
import type { EventMap, EventOf } from '../event.js'
import type { MatchingTopics } from '../topic/topic.js'

/** The events whose topics a pattern matches. */
export type Matching<E extends EventMap, P extends string> = EventOf<
  E,
  MatchingTopics<keyof E & string, P>
>

/** A pattern checked against a typed event map: one that matches no event type is a type error. */
export type PatternOf<E extends EventMap, P extends string> = [
  MatchingTopics<keyof E & string, P>,
] extends [never]
  ? `pattern "${P}" matches no event type`
  : P
