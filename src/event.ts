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
  /**
   * The version of the payload's shape (an integer, 1 first): `publish` stamps the type's current
   * version; consumers see events upcast to it (see `createBus({ versions })`). Absent on events
   * stored before versions existed, which read as version 1.
   */
  readonly version?: number
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

declare const VERSIONS: unique symbol

/**
 * An event-map entry whose payload has versions: each version's payload type by number, 1 first.
 * Handlers, listeners, `read` and `waitFor` see the highest (the current) version's type;
 * `publish(type, data, { version: n })` takes version `n`'s. Versions 1..64 are typed.
 *
 * @example
 * type Events = {
 *   'order.placed': Versioned<{ 1: { total: number }; 2: { amount: number; currency: string } }>
 *   'user.created': { email: string }
 * }
 */
export interface Versioned<M extends { [version: number]: unknown }> {
  readonly [VERSIONS]: M
}

/** `Next[n]` is `n + 1`: how the types walk a chain of versions without arithmetic. */
type Next = [
  never,
  2,
  3,
  4,
  5,
  6,
  7,
  8,
  9,
  10,
  11,
  12,
  13,
  14,
  15,
  16,
  17,
  18,
  19,
  20,
  21,
  22,
  23,
  24,
  25,
  26,
  27,
  28,
  29,
  30,
  31,
  32,
  33,
  34,
  35,
  36,
  37,
  38,
  39,
  40,
  41,
  42,
  43,
  44,
  45,
  46,
  47,
  48,
  49,
  50,
  51,
  52,
  53,
  54,
  55,
  56,
  57,
  58,
  59,
  60,
  61,
  62,
  63,
  64,
  65,
]

/** The highest version of a versions map: the key with no successor among the keys. */
type CurrentKey<M> = {
  [K in keyof M]: K extends keyof Next ? (Next[K] extends keyof M ? never : K) : never
}[keyof M]

/**
 * The payload type consumers see for an event-map entry: the current version's for a
 * {@link Versioned} entry, the entry itself otherwise.
 *
 * @example
 * type Placed = Payload<Events['order.placed']> // { amount: number; currency: string }
 */
export type Payload<D> = D extends Versioned<infer M> ? M[CurrentKey<M>] : D

/**
 * The payload type `publish` takes for version `V` of an entry: that version's for a
 * {@link Versioned} entry (any version's when `V` is only known to be a number), the entry itself otherwise.
 *
 * @example
 * type V1 = PayloadAt<Events['order.placed'], 1> // { total: number }
 */
export type PayloadAt<D, V extends number> =
  D extends Versioned<infer M>
    ? number extends V
      ? M[keyof M]
      : V extends keyof M
        ? M[V]
        : never
    : D

/**
 * The `versions` option of `createBus` for an event map: for a {@link Versioned} entry, its
 * current version and one upcaster per older version, typed from version `n` to `n + 1`.
 *
 * @example
 * const versions: VersionsOption<Events> = { 'order.placed': { current: 2, upcast: { 1: (v1) => ({ amount: v1.total, currency: 'EUR' }) } } }
 */
export type VersionsOption<E> = {
  [K in keyof E]?: E[K] extends Versioned<infer M>
    ? {
        current: CurrentKey<M>
        upcast: {
          [N in Exclude<keyof M, CurrentKey<M>>]: (data: M[N]) => M[Next[N & keyof Next] & keyof M]
        }
      }
    : { current: number; upcast?: { [from: number]: (data: any) => unknown } }
}

/**
 * The union of envelopes for the given topics of a map (distributes over the union, so
 * checking `e.type` narrows `e.data`); a {@link Versioned} entry's data is its current version.
 *
 * @example
 * type E = EventOf<MyEvents, 'order.placed' | 'user.created'>
 */
export type EventOf<E, T extends keyof E & string> = T extends unknown
  ? BusEvent<T, Payload<E[T]>>
  : never

/**
 * {@link EventOf} as stored: a {@link Versioned} entry's data is any of its versions (what
 * `read({ raw: true })` returns).
 *
 * @example
 * type Stored = StoredEventOf<MyEvents, 'order.placed'>
 */
export type StoredEventOf<E, T extends keyof E & string> = T extends unknown
  ? BusEvent<T, PayloadAt<E[T], number>>
  : never

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
export const ownId = (prefix: string, n: number): string => {
  // All but the last digit change once in 36 ids: they are kept, so an id costs one concatenation.
  const high = Math.floor(n / 36)
  if (high !== idHigh || prefix !== idPrefixOf) {
    idHead = prefix + high.toString(36).padStart(ID_COUNTER - 1, '0')
    idHigh = high
    idPrefixOf = prefix
  }
  return idHead + DIGITS[n % 36]
}
const DIGITS = '0123456789abcdefghijklmnopqrstuvwxyz'
let idHead = ''
let idHigh = -1
let idPrefixOf = ''

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
