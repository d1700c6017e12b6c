import { nanoid } from 'nanoid'

/**
 * The event envelope: what every listener, handler, read and store sees.
 * Immutable once appended.
 *
 * @example
 * bus.on('order.placed', (e: BusEvent<'order.placed', { total: number }>) => e.data.total)
 */
export interface BusEvent<T extends string = string, D = unknown> {
  /** Unique; the publish-side dedup key (the caller may set it). */
  readonly id: string
  /** The topic: dot-separated segments, e.g. `order.placed`. */
  readonly type: T
  /** Who produced it. */
  readonly source: string
  /** Epoch ms, set when the event is appended. */
  readonly time: number
  readonly data: D
  /** Position in the log, assigned on append, strictly increasing. */
  readonly seq: number
  /** The ordering key: events with one key are handled one at a time, in order. */
  readonly key?: string
  readonly correlationId?: string
  readonly causationId?: string
  /** W3C trace context. */
  readonly traceparent?: string
}

/**
 * An event map: topic to payload type, written as a `type` or an `interface`.
 * `createBus<MyEvents>()` types every call from it. This is the constraint every generic takes:
 * its values are `any` because only an `any` index signature accepts an interface (interfaces
 * have no implicit index signature). A bus made without a map uses {@link OpenEvents}.
 *
 * @example
 * type MyEvents = { 'order.placed': { id: string; total: number }; 'user.created': { email: string } }
 * interface AlsoEvents { 'order.paid': { id: string } }
 */
export type EventMap = { [type: string]: any }

/**
 * The event map of a bus created without one: any topic, `unknown` data.
 *
 * @example
 * const open: Bus<OpenEvents> = createBus()
 */
export type OpenEvents = Record<string, unknown>

/**
 * The union of envelopes for the given topics of a map (distributes over the union, so
 * checking `e.type` narrows `e.data`).
 *
 * @example
 * type E = EventOf<MyEvents, 'order.placed' | 'user.created'>
 */
export type EventOf<E, T extends keyof E & string> = T extends unknown ? BusEvent<T, E[T]> : never

/** Width of the counter part of an own id. */
export const ID_COUNTER = 7

/**
 * The random per-bus part of its event ids: creation time in base 36 and 6 nanoid characters.
 * With {@link ownId}'s counter, ids are unique, sort in append order for one bus, and cost a
 * counter increment.
 *
 * @example
 * const prefix = idPrefix(Date.now())
 * ownId(prefix, 1) // prefix + '0000001'
 */
export const idPrefix = (now: number): string => now.toString(36).padStart(9, '0') + nanoid(6)

/**
 * One of a bus's own ids: its prefix and a fixed-width base-36 counter.
 *
 * @example
 * ownId('0mwrnc4clabcdef', 36) // '0mwrnc4clabcdef0000010'
 */
export const ownId = (prefix: string, n: number): string =>
  prefix + n.toString(36).padStart(ID_COUNTER, '0')

/**
 * Wraps positions in the log into an opaque cursor string; `decodeCursor` inverts it.
 * One position per shard, so a sharded log resumes from one token.
 *
 * @example
 * const { next } = await bus.read({ limit: 10 })
 * await bus.read({ from: next })
 */
export const encodeCursor = (positions: readonly number[]): string =>
  'c' + positions.map((p) => p.toString(36)).join('.')

/**
 * Reads a cursor made by {@link encodeCursor}; `undefined` when it is not one.
 *
 * @example
 * decodeCursor(encodeCursor([42])) // [42]
 */
export const decodeCursor = (cursor: unknown): number[] | undefined => {
  if (typeof cursor !== 'string' || !/^c[0-9a-z]{1,11}(\.[0-9a-z]{1,11})*$/.test(cursor))
    return undefined
  return cursor
    .slice(1)
    .split('.')
    .map((p) => parseInt(p, 36))
}
