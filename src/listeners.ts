import { coded, describeValue, optionsOf, signalOf } from './check.js'
import { fail } from './errors.js'
import type { BusEvent } from './event.js'
import { createTrie } from './topic/topic.js'
import type { ErrorContext, ListenOptions } from './types.js'

/** How many topics' matches are cached at most (the cache starts over past it). */
const CACHED_TOPICS = 1024

interface Listener {
  listener: (event: BusEvent) => unknown
  test: ((event: BusEvent) => boolean) | undefined
  order: number
}

/** The live listeners of a bus: in-process, at-most-once, in publish order. */
export interface Listeners {
  /** Runs the matching listeners on appended events; a listener's error goes to `onError`. */
  dispatch(events: readonly BusEvent[]): void
  /** `bus.on`: checks its arguments, adds the listener, returns its unsubscribe. */
  on(pattern: string, listener: unknown, options: ListenOptions | undefined): () => void
  /** Adds a listener as is (for `waitFor`); returns its removal. */
  add(pattern: string, listener: (event: BusEvent) => void): () => void
}

/**
 * Live listeners in a topic trie; they run in the order they were added.
 *
 * @example
 * const listeners = createListeners(onError, versioning.view)
 * const off = listeners.on('order.*', (event) => console.log(event.type), undefined)
 */
export const createListeners = (
  onError: (error: unknown, context: ErrorContext) => void,
  view: (event: BusEvent) => BusEvent,
): Listeners => {
  const trie = createTrie<Listener>()
  let added = 0
  // Each topic's matches, sorted, until the listener set changes: a publish then costs one lookup,
  // whatever the number of patterns. Bounded, since topics come from callers (HTTP among them).
  let matches = new Map<string, readonly Listener[]>()
  const matching = (topic: string): readonly Listener[] => {
    const cached = matches.get(topic)
    if (cached) return cached
    const found = trie.match(topic)
    // The trie finds listeners by pattern; they run in the order they were added.
    if (found.length > 1) found.sort((a, b) => a.order - b.order)
    if (matches.size >= CACHED_TOPICS) matches = new Map()
    matches.set(topic, found)
    return found
  }
  /** Adds to the trie; the cached matches go whenever a listener comes or goes. */
  const add = (pattern: string, listener: Listener): (() => void) => {
    const remove = trie.add(pattern, listener)
    matches = new Map()
    return () => {
      remove()
      matches = new Map()
    }
  }
  return {
    dispatch(events) {
      for (const stored of events) {
        const matched = matching(stored.type)
        if (!matched.length) continue
        let event: BusEvent
        // Listeners see the current version; an upcaster that throws is reported, the event stays in the log.
        try {
          event = view(stored)
        } catch (error) {
          onError(error, { event: stored })
          continue
        }
        // The cached array is never changed in place: a listener added or removed meanwhile makes a new one.
        for (const { listener, test } of matched) {
          try {
            if (test && !test(event)) continue
            const result = listener(event)
            if (typeof (result as PromiseLike<void> | undefined)?.then === 'function')
              Promise.resolve(result).catch((error) => onError(error, { event, listener }))
          } catch (error) {
            onError(error, { event, listener })
          }
        }
      }
    },
    on(pattern, listener, options) {
      let off: () => void, signal
      try {
        const { filter, ...rest } = optionsOf(options, 'on')
        signal = signalOf(rest.signal)
        if (typeof listener !== 'function')
          fail('INVALID_OPTIONS', `on() takes a listener function, got ${describeValue(listener)}`)
        if (filter !== undefined && typeof filter !== 'function')
          fail(
            'INVALID_FILTER',
            'on() takes a function filter; declarative filters are for subscribe() and waitFor()',
          )
        off = add(pattern, {
          listener: listener as Listener['listener'],
          test: filter as Listener['test'],
          order: added++,
        })
      } catch (error) {
        throw coded(error, 'INVALID_OPTIONS', 'reading the options of on() threw')
      }
      if (signal?.aborted) off()
      signal?.addEventListener('abort', off, { once: true })
      return () => {
        off()
        signal?.removeEventListener('abort', off)
      }
    },
    add: (pattern, listener) => add(pattern, { listener, test: undefined, order: added++ }),
  }
}
