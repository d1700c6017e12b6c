import { describeValue } from './describe.js'
import { fail, TidingsError, type ErrorCode } from './errors.js'
import type { PublishOptions } from './types.js'
import type { Draft } from './log/log.js'
import { copiedBytes, copyPayload } from './payload.js'
import { checkTopic } from './topic/topic.js'

/** The options of a publish given none: shared, since nothing writes to them (and none to check). */
export const NO_OPTIONS: PublishOptions = Object.freeze({})

/** A W3C traceparent (version, trace id, span id, flags). */
export const TRACEPARENT: RegExp = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/
/** Options copied onto the envelope as they are; with id and source, the text options checked. */
export const ENVELOPE_OPTIONS = ['key', 'correlationId', 'causationId', 'traceparent'] as const
/** The text options of a publish: each 1..512 characters. */
export const TEXT_OPTIONS: readonly ['id', 'source', ...typeof ENVELOPE_OPTIONS] = [
  'id',
  'source',
  ...ENVELOPE_OPTIONS,
]

/** 9999-12-31T23:59:59.999Z, the latest due time or schedule tick: due keys keep their 15 digits. */
export const MAX_TIME = 253_402_300_799_999

/** What the size check of an event depends on: the bus's `source` and `limits.maxEventBytes`. */
export interface EventLimits {
  source: string
  maxBytes: number
  /** The bus's check of a `{ version }` option (see `createBus({ versions })`); throws `INVALID_OPTIONS`. */
  version?(type: string, version: unknown): unknown
}

export { describeValue } from './describe.js'

/**
 * Checks what publish checks before the payload: the topic and the text options (each 1..512
 * characters; `traceparent` in W3C form). Throws `INVALID_TOPIC` / `INVALID_OPTIONS`.
 *
 * @example
 * checkEnvelope('order.placed', { key: 'o1' })
 */
export const checkEnvelope = (type: unknown, o: PublishOptions): void => {
  checkTopic(type)
  if (o === NO_OPTIONS) return
  for (const k of TEXT_OPTIONS) {
    const v = o[k]
    if (
      v !== undefined &&
      (typeof v !== 'string' ||
        !v ||
        v.length > 512 ||
        (k === 'traceparent' && !TRACEPARENT.test(v)))
    ) {
      fail(
        'INVALID_OPTIONS',
        `${k} ${describeValue(v)} is not a string of 1..512 characters${k === 'traceparent' ? ' in W3C form' : ''}`,
      )
    }
  }
}

/**
 * The envelope of a checked event with its payload copied (see {@link copyPayload}) and, when
 * given, its version; refused with `PAYLOAD_TOO_LARGE` when the whole serialized event would pass
 * `limits.maxBytes`. The walk stops as soon as it does, so a huge sparse array costs nothing.
 *
 * @example
 * const d = draftEvent('', 'order.placed', { total: 3 }, {}, { source: 'shop', maxBytes: 131_072 })
 */
export const draftEvent = (
  id: string,
  type: string,
  data: unknown,
  o: PublishOptions,
  { source, maxBytes }: EventLimits,
  version?: number,
): Draft => {
  const from = o.source ?? source
  // The version in the literal: an envelope built whole, not grown by a property afterwards.
  const d: Draft =
    version === undefined
      ? { id, type, source: from, time: 0, seq: 0, data: undefined }
      : { id, type, source: from, time: 0, seq: 0, data: undefined, version }
  let size = (id.length || 22) + type.length + d.source.length + 120
  if (o !== NO_OPTIONS)
    for (const k of ENVELOPE_OPTIONS) {
      const v = o[k]
      if (v !== undefined) {
        d[k] = v
        size += v.length + 20
      }
    }
  const copy = copyPayload(data, maxBytes - size)
  size += copiedBytes()
  if (size > maxBytes)
    fail(
      'PAYLOAD_TOO_LARGE',
      `event "${type}" is ${copy === undefined ? 'over' : 'about'} ${size} bytes serialized; the limit is ${maxBytes}`,
    )
  d.data = copy
  return d
}

/**
 * The one check an event passes before it is stored, as `publish` makes it (a Standard Schema
 * aside, which may be async, and an older version's upcast): topic, options (the version among
 * them), payload shape and size. The IndexedDB outbox stages
 * with it, so what it stages the bus accepts. Returns the envelope (`id` empty when not given).
 *
 * @example
 * checkEvent('order.placed', { total: 3 }, { key: 'o1' }, { source: 'tidings', maxBytes: 131_072 })
 */
export const checkEvent = (
  type: string,
  data: unknown,
  o: PublishOptions & { version?: unknown },
  limits: EventLimits,
): Draft => {
  checkEnvelope(type, o)
  limits.version?.(type, o.version)
  return draftEvent(o.id ?? '', type, data, o, limits)
}

/**
 * A `TidingsError` for whatever a read of user-given input threw (a getter, a Proxy trap): a
 * `TidingsError` as it is, anything else as `code` with the thrown value as `cause`.
 *
 * @example
 * try { read(options) } catch (e) { throw coded(e, 'INVALID_OPTIONS', 'reading the options threw') }
 */
export const coded = (e: unknown, code: ErrorCode, message: string): TidingsError =>
  e instanceof TidingsError ? e : new TidingsError(code, message, { cause: e })

/**
 * Options as given: `undefined` (none) or an object. Throws `INVALID_OPTIONS` otherwise.
 *
 * @example
 * const o = optionsOf(options, 'read')
 */
export const optionsOf = <T extends object>(o: T | undefined | null, what: string): Partial<T> => {
  if (o === undefined) return {}
  if (!o || typeof o !== 'object' || Array.isArray(o))
    fail('INVALID_OPTIONS', `${what} takes an options object, got ${describeValue(o)}`)
  return o as T
}

const limitsByBus = new WeakMap<object, EventLimits>()

/**
 * The limits a bus made by `createBus` checks events against (`undefined` for other buses), so
 * a helper staging events for it (the IndexedDB outbox) checks them exactly as it will.
 *
 * @example
 * const limits = limitsOf(bus) ?? { source: 'tidings', maxBytes: 131_072 }
 */
export const limitsOf = (bus: object): EventLimits | undefined => limitsByBus.get(bus)

/** @internal Records a bus's limits for {@link limitsOf}. @example setLimits(bus, { source, maxBytes }) */
export const setLimits = (bus: object, limits: EventLimits): void =>
  void limitsByBus.set(bus, limits)

/**
 * An `AbortSignal` option as given, or `undefined`; anything else is `INVALID_OPTIONS`.
 *
 * @example
 * const signal = signalOf(options.signal)
 */
export const signalOf = (s: unknown): AbortSignal | undefined =>
  s === undefined || typeof (s as AbortSignal | null)?.addEventListener === 'function'
    ? (s as AbortSignal | undefined)
    : fail('INVALID_OPTIONS', `signal must be an AbortSignal, got ${describeValue(s)}`)
