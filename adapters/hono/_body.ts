import type { Context } from 'hono'
import { fail, type ErrorCode } from '../../src/errors.js'

/**
 * The raw body as text, refused with 413 past the limit (see {@link readBytes}) and with
 * `INVALID_PAYLOAD` when it is not UTF-8: replacing the bad bytes would store what was not sent.
 *
 * @example
 * const text = await readBody(c, 1 << 20)
 */
export const readBody = async (c: Context, max: number): Promise<string> => {
  const bytes = await readBytes(c, max)
  try {
    return utf8.decode(bytes)
  } catch {
    return fail('INVALID_PAYLOAD', 'the body is not valid UTF-8')
  }
}

/**
 * The raw body's bytes, refused with 413 past the limit: by its declared length first, then while
 * it is read, so a body sent without a length (chunked, or one that never ends) is cut at the limit
 * and never held in memory past it. Signatures are checked over these bytes: decoding drops a
 * byte-order mark and replaces bytes that are not UTF-8, so re-encoded text is not what was signed.
 *
 * @example
 * const body = await readBytes(c, 1 << 20)
 */
export const readBytes = async (c: Context, max: number): Promise<Uint8Array<ArrayBuffer>> => {
  const declared = Number(c.req.header('content-length') ?? 0)
  if (declared > max)
    fail('PAYLOAD_TOO_LARGE', `the request body is ${declared} bytes; the limit is ${max}`)
  const body = c.req.raw.body
  if (!body) return new Uint8Array()
  const reader = body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { value, done } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > max) {
      // Not awaited: a stream that never ends may never settle its cancel either.
      reader.cancel().catch(() => {})
      fail('PAYLOAD_TOO_LARGE', `the request body is over ${max} bytes`)
    }
    chunks.push(value)
  }
  // Most bodies arrive in one chunk: use it as it is, without a copy.
  if (chunks.length === 1 && chunks[0]!.buffer instanceof ArrayBuffer)
    return chunks[0] as Uint8Array<ArrayBuffer>
  const all = new Uint8Array(size)
  let at = 0
  for (const ch of chunks) {
    all.set(ch, at)
    at += ch.byteLength
  }
  return all
}
// Stateless between calls (no `stream` option), so one serves every request.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/**
 * Past this depth parsed JSON is refused before anything walks it recursively: far above what the
 * bus accepts (payloads 64 levels, filters 32), so the bus's own, more precise refusal speaks first.
 */
export const MAX_JSON_DEPTH = 128

/**
 * Whether `value` nests arrays and objects deeper than `max`, walked without recursion. On the way
 * it reads each `-0` as `0` and reports a number JSON cannot give back (`1e400` parses to Infinity).
 */
export const deeper = (value: unknown, max: number, infinite?: { found: boolean }): boolean => {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length) {
    const [v, d] = stack.pop()!
    if (typeof v !== 'object' || v === null) continue
    if (d >= max) return true
    for (const k in v) {
      const x = (v as Record<string, unknown>)[k]
      if (typeof x === 'number') {
        // An own data property (JSON.parse makes no other), so assigning never reaches a setter.
        if (Object.is(x, -0)) (v as Record<string, unknown>)[k] = 0
        else if (infinite && !Number.isFinite(x)) infinite.found = true
      } else stack.push([x, d + 1])
    }
  }
  return false
}

/**
 * JSON text to a value, refused with `code` (default `INVALID_PAYLOAD`) when it is not JSON, nests
 * deeper than {@link MAX_JSON_DEPTH} or holds a number beyond a double (`1e400`). `-0` reads as `0`:
 * JSON gives no sign to zero, and a `-0` would be stored as a value JSON cannot give back.
 *
 * @example
 * parseJson('{"a":1}') // { a: 1 }
 */
export const parseJson = (
  text: string,
  what = 'the body',
  code: ErrorCode = 'INVALID_PAYLOAD',
): unknown => {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return fail(code, `${what} is not JSON`)
  }
  if (typeof value === 'number')
    return Number.isFinite(value)
      ? value + 0
      : fail(code, `${what} holds a number beyond the range of a double`)
  const infinite = { found: false }
  if (deeper(value, MAX_JSON_DEPTH, infinite))
    fail(code, `${what} nests deeper than ${MAX_JSON_DEPTH} levels`)
  if (infinite.found) fail(code, `${what} holds a number beyond the range of a double`)
  return value
}
