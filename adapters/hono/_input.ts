import { fromCloudEvent, type PublishOptions } from '../../src/index.js'
import { checkTopic, fail, publishInputOf, TEXT_OPTIONS } from '../../src/internal.js'
import { parseJson } from './_body.js'

/** One event to publish, as read from a request. */
export type Input = PublishOptions & { type: string; data: unknown; version?: number }

const FIELDS = TEXT_OPTIONS

const isRecord = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)

/**
 * `{ type, data, id?, key?, version?, ... }`: the plain JSON form of an event to publish. The type is checked
 * as a topic here, before any scope is, so a malformed type is `INVALID_TOPIC` whatever the token.
 *
 * @example
 * fromJson({ type: 'order.placed', data: { total: 3 }, key: 'o1' })
 */
export const fromJson = (x: unknown): Input => {
  if (!isRecord(x) || typeof x.type !== 'string')
    return fail('INVALID_PAYLOAD', 'an event needs a string "type" and a "data"')
  checkTopic(x.type)
  const out: Input = { type: x.type, data: x.data }
  for (const f of FIELDS) {
    const v = x[f]
    // null is "not given", as in CloudEvents; any other non-string is a client's mistake.
    if (v === undefined || v === null) continue
    if (typeof v !== 'string')
      fail(
        'INVALID_PAYLOAD',
        `"${f}" must be a string, got ${Array.isArray(v) ? 'an array' : typeof v}`,
      )
    out[f] = v as string
  }
  // Checked by the bus's publish (an integer in 1..the type's current version).
  if (x.version !== undefined && x.version !== null)
    out.version =
      typeof x.version === 'number'
        ? x.version
        : fail('INVALID_PAYLOAD', '"version" must be a number')
  return out
}

/**
 * A CloudEvent in structured mode (parsed JSON) to an event to publish.
 *
 * @example
 * fromCloud({ specversion: '1.0', id: 'a1', type: 'order.placed', source: 'shop', data: 1 })
 */
export const fromCloud = (x: unknown): Input => {
  return publishInputOf(fromCloudEvent(x))
}

const CE = 'application/cloudevents+json'
const CE_BATCH = 'application/cloudevents-batch+json'

/** The media type of a Content-Type header, lower-cased, without parameters. */
export const mediaType = (header: string | null | undefined): string =>
  (header ?? '').split(';')[0]!.trim().toLowerCase()
const isJson = (type: string) => type === 'application/json' || type.endsWith('+json')

/**
 * The events of a `POST /events` body: plain JSON (one event or an array), or CloudEvents in any of
 * the HTTP binding's modes: structured (`application/cloudevents+json`), batch
 * (`application/cloudevents-batch+json`) or binary (attributes in `ce-*` headers, the body is the
 * data, never read as an envelope). Refuses, before any scope check, what is not an event.
 *
 * @example
 * eventsOf(new Headers({ 'ce-specversion': '1.0', 'ce-id': 'a1', 'ce-type': 'order.placed', 'ce-source': 'shop', 'content-type': 'application/json' }), '{"total":3}', 100)
 * // { inputs: [{ type: 'order.placed', data: { total: 3 }, id: 'a1', source: 'shop' }], batch: false }
 */
export const eventsOf = (
  headers: Headers,
  text: string,
  batchMax: number,
): { inputs: Input[]; batch: boolean } => {
  const type = mediaType(headers.get('content-type'))
  if (type !== CE && type !== CE_BATCH && isBinary(headers))
    return { inputs: [fromCloud(binaryEnvelope(headers, type, text))], batch: false }
  const body = parseJson(text)
  const batch = Array.isArray(body)
  if (type === CE_BATCH && !batch)
    fail('INVALID_PAYLOAD', `${CE_BATCH} must be a JSON array of CloudEvents`)
  if (type === CE && batch)
    fail('INVALID_PAYLOAD', `${CE} is one CloudEvent: send an array as ${CE_BATCH}`)
  const items = (batch ? body : [body]) as unknown[]
  if (items.length > batchMax)
    fail('PAYLOAD_TOO_LARGE', `a batch holds at most ${batchMax} events, got ${items.length}`)
  if (!items.length) fail('INVALID_PAYLOAD', 'no events in the request')
  const cloud = type === CE || type === CE_BATCH
  return { inputs: items.map((x) => (cloud ? fromCloud(x) : fromJson(x))), batch }
}

// Binary mode is told by its headers: any `ce-` attribute makes the body the data, whatever it holds.
const isBinary = (headers: Headers): boolean => {
  let found = false
  headers.forEach((_, name) => {
    found ||= name.startsWith('ce-')
  })
  return found
}

/**
 * A binary-mode request as a structured CloudEvent: each `ce-<name>` header is the attribute
 * `<name>` (values percent-decoded, as the HTTP binding requires), Content-Type is
 * `datacontenttype`, the body is `data`: JSON when the type says so, text when it is text.
 */
const binaryEnvelope = (headers: Headers, type: string, text: string): Record<string, unknown> => {
  const ce: Record<string, unknown> = {}
  headers.forEach((value, name) => {
    const attr = name.slice(3)
    // Attribute names are lower-case letters and digits; `data` never comes from a header.
    if (!name.startsWith('ce-') || !/^[a-z0-9]{1,20}$/.test(attr) || attr === 'data') return
    try {
      ce[attr] = decodeURIComponent(value)
    } catch {
      fail('INVALID_PAYLOAD', `header ${name} is not valid percent-encoding`)
    }
  })
  if (text === '') return ce
  const contentType = headers.get('content-type')
  if (contentType) ce.datacontenttype = contentType
  if (isJson(type)) ce.data = parseJson(text, 'the data')
  else if (type === '' || type.startsWith('text/')) ce.data = text
  else
    fail(
      'INVALID_PAYLOAD',
      `binary-mode data of type ${JSON.stringify(type)} is not supported: send JSON or text`,
    )
  return ce
}

/**
 * A verified webhook body as `map` receives it: JSON parsed (as the Content-Type says, or when it
 * parses with none given), form fields decoded (GitHub's form-encoded hooks: the `payload` field's
 * JSON), any other text as the string it is.
 *
 * @example
 * webhookPayload('application/x-www-form-urlencoded', 'payload=%7B%22zen%22%3A1%7D') // { zen: 1 }
 */
export const webhookPayload = (type: string, text: string): unknown => {
  if (isJson(type)) return parseJson(text)
  if (type === 'application/x-www-form-urlencoded') {
    const form = new URLSearchParams(text)
    const payload = form.get('payload')
    if (payload !== null) return parseJson(payload, 'the payload field')
    const fields: Record<string, string> = {}
    // Defined, not assigned: a `__proto__` field is data, not a prototype.
    form.forEach((value, name) => {
      Object.defineProperty(fields, name, {
        value,
        enumerable: true,
        writable: true,
        configurable: true,
      })
    })
    return fields
  }
  if (type === '') {
    try {
      return parseJson(text)
    } catch {
      return text
    }
  }
  return text
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
    if (body !== undefined)
      fail('INVALID_PAYLOAD', 'give the ids in the query or in the body, not both')
    const ids = query.split(',').filter(Boolean)
    if (!ids.length) fail('INVALID_PAYLOAD', '?ids= names no dead letter: leave it out to mean all')
    return ids
  }
  if (body === undefined) return undefined
  if (!isRecord(body))
    return fail('INVALID_PAYLOAD', 'the body must be {} (all) or { "ids": [...] }')
  for (const k of Object.keys(body))
    if (k !== 'ids')
      fail(
        'INVALID_PAYLOAD',
        `unknown field ${JSON.stringify(k)}: the body must be {} (all) or { "ids": [...] }`,
      )
  if (body.ids === undefined) return undefined
  if (!Array.isArray(body.ids) || !body.ids.every((i) => typeof i === 'string'))
    fail('INVALID_PAYLOAD', '"ids" must be an array of strings')
  return body.ids as string[]
}
