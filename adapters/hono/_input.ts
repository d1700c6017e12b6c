import { fromCloudEvent } from '../../src/cloudevent.js'
import { fail } from '../../src/errors.js'
import { checkTopic } from '../../src/topic.js'

/** One event to publish, as read from a request. */
export type Input = { type: string; data: unknown; id?: string; key?: string; source?: string; correlationId?: string; causationId?: string; traceparent?: string }

const FIELDS = ['id', 'key', 'source', 'correlationId', 'causationId', 'traceparent'] as const

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/**
 * `{ type, data, id?, key?, ... }`: the plain JSON form of an event to publish. The type is checked
 * as a topic here, before any scope is, so a malformed type is `INVALID_TOPIC` whatever the token.
 *
 * @example
 * fromJson({ type: 'order.placed', data: { total: 3 }, key: 'o1' })
 */
export const fromJson = (x: unknown): Input => {
  if (!isRecord(x) || typeof x.type !== 'string') return fail('INVALID_PAYLOAD', 'an event needs a string "type" and a "data"')
  checkTopic(x.type)
  const out: Input = { type: x.type, data: x.data }
  for (const f of FIELDS) {
    const v = x[f]
    // null is "not given", as in CloudEvents; any other non-string is a client's mistake.
    if (v === undefined || v === null) continue
    if (typeof v !== 'string') fail('INVALID_PAYLOAD', `"${f}" must be a string, got ${Array.isArray(v) ? 'an array' : typeof v}`)
    out[f] = v as string
  }
  return out
}

/**
 * A CloudEvent in structured mode (parsed JSON) to an event to publish.
 *
 * @example
 * fromCloud({ specversion: '1.0', id: 'a1', type: 'order.placed', source: 'shop', data: 1 })
 */
export const fromCloud = (x: unknown): Input => {
  const e = fromCloudEvent(x)
  const out: Input = { type: e.type, data: e.data, id: e.id, source: e.source }
  for (const f of ['key', 'correlationId', 'causationId', 'traceparent'] as const) if (e[f] !== undefined) out[f] = e[f]
  return out
}

/**
 * Dead-letter ids from `?ids=a,b` or a JSON body. No body, or `{}`, means every dead letter;
 * `{ "ids": [...] }` means those; anything else (a bare array, a number, `null`, other keys) is
 * refused, so a malformed request never empties the list.
 *
 * @example
 * deadLetterIds(undefined, '{"ids":["mailer/3"]}') // ['mailer/3']
 * deadLetterIds(undefined, '')                     // undefined: all
 */
export const deadLetterIds = (query: string | undefined, body: unknown): string[] | undefined => {
  if (query !== undefined) {
    if (body !== undefined) fail('INVALID_PAYLOAD', 'give the ids in the query or in the body, not both')
    const ids = query.split(',').filter(Boolean)
    if (!ids.length) fail('INVALID_PAYLOAD', '?ids= names no dead letter: leave it out to mean all')
    return ids
  }
  if (body === undefined) return undefined
  if (!isRecord(body)) return fail('INVALID_PAYLOAD', 'the body must be {} (all) or { "ids": [...] }')
  for (const k of Object.keys(body)) if (k !== 'ids') fail('INVALID_PAYLOAD', `unknown field ${JSON.stringify(k)}: the body must be {} (all) or { "ids": [...] }`)
  if (body.ids === undefined) return undefined
  if (!Array.isArray(body.ids) || !body.ids.every((i) => typeof i === 'string')) fail('INVALID_PAYLOAD', '"ids" must be an array of strings')
  return body.ids as string[]
}
