import { fail } from './errors.js'
import type { BusEvent } from './event.js'
import { checkTopic } from './topic/topic.js'
import { fromTagged, toTagged } from './tagged.js'

/**
 * A CloudEvents 1.0 event in structured-mode JSON. `partitionkey`, `sequence` and `traceparent` are
 * the spec's extensions; `correlationid` and `causationid` carry the bus's fields of those names.
 *
 * @example
 * const ce: CloudEvent = { specversion: '1.0', id: 'a1', type: 'order.placed', source: 'shop', data: { total: 3 } }
 */
export interface CloudEvent {
  specversion: '1.0'
  id: string
  type: string
  source: string
  /** RFC 3339. */
  time?: string
  /** `application/json`, or `application/superjson+json` when `data` is a superjson `{ json, meta }`. */
  datacontenttype?: string
  data?: unknown
  partitionkey?: string
  /** The event's seq, as a decimal string zero-padded to 16 digits (so it orders as a string, as the spec's sequence extension asks). */
  sequence?: string
  traceparent?: string
  correlationid?: string
  causationid?: string
  [extension: string]: unknown
}

/**
 * An event that has not been appended yet: no `seq` or `time` unless it carries them. What
 * {@link fromCloudEvent} returns and what the bus accepts from outside.
 *
 * @example
 * const e: IncomingEvent = { id: 'a1', type: 'order.placed', source: 'shop', data: { total: 3 } }
 */
export type IncomingEvent = Omit<BusEvent, 'seq' | 'time'> & { seq?: number; time?: number }

const JSON_TYPE = 'application/json'
const SUPERJSON = 'application/superjson+json'
// Event field to CloudEvents attribute, for the optional strings that map one to one.
const EXT = [
  ['key', 'partitionkey'],
  ['traceparent', 'traceparent'],
  ['correlationId', 'correlationid'],
  ['causationId', 'causationid'],
] as const

/**
 * Maps an event to a CloudEvents 1.0 structured-mode object, ready for `JSON.stringify`.
 * JSON-safe data goes as is (`application/json`); data JSON would change (Date, Map, Set, BigInt,
 * RegExp, undefined, NaN, ±Infinity, -0, anywhere inside) goes as superjson's `{ json, meta }`
 * (`application/superjson+json`), so {@link fromCloudEvent} restores it exactly. Data that is
 * itself `undefined` is left out.
 *
 * @example
 * toCloudEvent(e) // { specversion: '1.0', id: e.id, type: 'order.placed', source: 'shop',
 *                 //   time: '2025-01-01T00:00:00.000Z', sequence: '0000000000000042', datacontenttype: 'application/json', data: { total: 3 } }
 */
export const toCloudEvent = (e: BusEvent | IncomingEvent): CloudEvent => {
  const ce: CloudEvent = { specversion: '1.0', id: e.id, type: e.type, source: e.source }
  if (e.time !== undefined) ce.time = new Date(e.time).toISOString()
  if (e.seq !== undefined) ce.sequence = String(e.seq).padStart(16, '0')
  for (const [field, attr] of EXT) if (e[field] !== undefined) ce[attr] = e[field]
  if (e.data !== undefined) {
    const t = toTagged(e.data)
    ce.datacontenttype = t.meta ? SUPERJSON : JSON_TYPE
    ce.data = t.meta ? t : e.data
  }
  return ce
}

const bad: (attribute: string, why: string) => never = (attribute, why) =>
  fail('INVALID_PAYLOAD', `CloudEvent attribute "${attribute}" ${why}`)
const show = (v: unknown) =>
  typeof v === 'string' ? JSON.stringify(v) : v === null ? 'null' : typeof v
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i
// Attributes this module reads (data and data_base64 are not attributes); any other is an extension.
const KNOWN = new Set([
  'specversion',
  'id',
  'type',
  'source',
  'time',
  'sequence',
  'datacontenttype',
  'dataschema',
  'subject',
  'data',
  'data_base64',
  ...EXT.map(([, a]) => a),
])
const INT32 = 2 ** 31
/** A value of a CloudEvents type, as JSON carries it: Boolean, Integer (signed 32-bit) or String (URI, Timestamp, Binary too). */
const typed = (v: unknown) =>
  typeof v === 'string' ||
  typeof v === 'boolean' ||
  (Number.isInteger(v) && (v as number) >= -INT32 && (v as number) < INT32)

/**
 * Reads a CloudEvents 1.0 structured-mode object (parsed JSON) into an event: `partitionkey` to
 * `key`, `sequence` to `seq`, `time` to epoch ms; `application/superjson+json` data is decoded.
 * Inverts {@link toCloudEvent}. Optional attributes that are absent or `null` are left out; unknown
 * extensions are dropped. Throws `INVALID_PAYLOAD` naming the attribute when it is not a valid
 * CloudEvent (wrong `specversion`, empty `id`, `type` not a topic, bad `time` or `sequence`, ...).
 *
 * @example
 * const e = fromCloudEvent(await request.json())
 * e.type // 'order.placed'
 */
export const fromCloudEvent = (ce: unknown): IncomingEvent => {
  if (typeof ce !== 'object' || ce === null || Array.isArray(ce))
    return fail('INVALID_PAYLOAD', 'a CloudEvent must be a JSON object')
  const c = ce as Record<string, unknown>
  const str = (name: string): string | undefined =>
    c[name] == null
      ? undefined
      : typeof c[name] === 'string'
        ? c[name]
        : bad(name, `must be a string, got ${show(c[name])}`)
  const { specversion, id, type, source } = c
  if (specversion !== '1.0') bad('specversion', `must be "1.0", got ${show(specversion)}`)
  if (typeof id !== 'string' || !id) bad('id', `must be a non-empty string, got ${show(id)}`)
  try {
    checkTopic(type)
  } catch (err) {
    bad('type', `is not a valid topic: ${(err as Error).message}`)
  }
  if (typeof source !== 'string' || !source)
    bad('source', `must be a non-empty string, got ${show(source)}`)
  // Optional attributes, when present, are non-empty strings (CloudEvents 1.0); subject and dataschema are not kept.
  for (const a of ['subject', 'dataschema', 'datacontenttype'])
    if (str(a) === '') bad(a, 'must not be empty')
  for (const name in c) {
    if (KNOWN.has(name) || c[name] == null) continue
    if (!/^[a-z0-9]{1,20}$/.test(name))
      bad(name.slice(0, 40), 'is not a CloudEvents attribute name: 1..20 characters of [a-z0-9]')
    if (!typed(c[name]))
      bad(name, `has no CloudEvents type (boolean, 32-bit integer or string), got ${show(c[name])}`)
  }
  const e: Record<string, unknown> = { id, type, source, data: c.data }
  const time = str('time')
  if (time !== undefined) {
    const ms = RFC3339.test(time) ? Date.parse(time.toUpperCase()) : NaN
    e.time = isNaN(ms) ? bad('time', `must be an RFC 3339 timestamp, got ${show(time)}`) : ms
  }
  const seq = str('sequence')
  if (seq !== undefined)
    e.seq =
      /^\d+$/.test(seq) && Number.isSafeInteger(+seq)
        ? +seq
        : bad('sequence', `must be a non-negative integer string, got ${show(seq)}`)
  for (const [field, attr] of EXT) {
    const v = str(attr)
    if (v !== undefined) e[field] = v
  }
  if (c.data_base64 != null) bad('data_base64', 'is not supported: send JSON data')
  if (str('datacontenttype')?.split(';')[0]!.trim().toLowerCase() === SUPERJSON) {
    try {
      e.data = fromTagged(c.data)
    } catch (err) {
      bad('data', `is not valid ${SUPERJSON}: ${(err as Error).message}`)
    }
  }
  return e as IncomingEvent
}
