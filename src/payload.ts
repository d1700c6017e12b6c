import { TidingsError } from './errors.js'

const MAX_DEPTH = 64

/** Bytes a string takes in UTF-8 inside JSON quotes. */
const utf8 = (s: string): number => {
  let n = s.length + 2
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c > 0x7f) n += c >= 0xd800 && c < 0xe000 ? 1 : c > 0x7ff ? 2 : 1
  }
  return n
}

// Thrown inside the walk and given its path on the way out, so the happy path builds no strings.
// `cause` is what user code (a getter, a Proxy trap) threw.
class Bad {
  constructor(
    public why: string,
    public cause?: unknown,
    public path = '',
  ) {}
}
const at = (e: unknown, seg: string): never => {
  if (e instanceof Bad) e.path = seg + e.path
  // A getter or a Proxy trap threw: that is bad data, with what it threw as the cause.
  throw e instanceof Bad || e === BIG ? e : new Bad('reading it threw', e, seg)
}
// Thrown once the size passes the budget: a huge sparse array is not walked to its end.
const BIG = {}

// The walk adds to `size` instead of returning pairs: the happy path allocates only the copy.
// A string counts its length + 2 at once (exact for ASCII) and is read char by char only when it
// matters: `slack` is what the strings not read yet could add (at most 2 bytes more per char), and
// they are read (`settle`) only when the size with that slack would pass the budget. A payload far
// below its limit, the usual case, is sized without reading a character of its text.
let size = 0
let budget = Infinity
let slack = 0
let unread = 0
const unreadStrings: string[] = []
const text = (s: string) => {
  size += s.length + 2
  if (s.length) {
    slack += 2 * s.length
    unreadStrings[unread++] = s
  }
}
/** Reads the strings not read yet: `size` becomes exact. */
const settle = () => {
  for (let i = 0; i < unread; i++) {
    const s = unreadStrings[i]!
    size += utf8(s) - s.length - 2
  }
  unread = slack = 0
}
const more = (n: number) => {
  if ((size += n) + slack > budget) {
    settle()
    if (size > budget) throw BIG
  }
}

const walk = (value: unknown, depth: number): unknown => {
  switch (typeof value) {
    case 'string':
      text(value)
      return value
    case 'number':
    case 'undefined':
      size += 12
      return value
    case 'boolean':
      size += 5
      return value
    case 'bigint':
      size += String(value).length + 12
      return value
    case 'object':
      break
    default:
      throw new Bad(`a ${typeof value} cannot be stored`)
  }
  if (value === null) {
    size += 4
    return null
  }
  if (depth > MAX_DEPTH) throw new Bad(`nested deeper than ${MAX_DEPTH} levels (a cycle?)`)
  const d = depth + 1
  let i = 0
  more(2)
  if (Array.isArray(value)) {
    const n = value.length
    const copy: unknown[] = []
    try {
      for (; i < n; i++) {
        copy.push(walk(value[i], d))
        more(1)
      }
    } catch (e) {
      at(e, `[${i}]`)
    }
    return Object.freeze(copy)
  }
  const proto = Object.getPrototypeOf(value)
  // A plain object of this realm or of another (an iframe's): its prototype is a root one.
  if (
    proto === Object.prototype ||
    proto === null ||
    (Object.getPrototypeOf(proto) === null && proto.constructor?.name === 'Object')
  ) {
    const copy: Record<string, unknown> = {}
    let k = ''
    try {
      // An own `__proto__` key is data, never the copy's prototype: defineProperty for it (the copy is
      // frozen, so writable and configurable need not be given); assignment, much cheaper, for the rest.
      for (k in value) {
        const item = walk((value as Record<string, unknown>)[k], d)
        if (k === '__proto__') Object.defineProperty(copy, k, { value: item, enumerable: true })
        else copy[k] = item
        text(k)
        more(2)
      }
    } catch (e) {
      at(e, `.${k}`)
    }
    return Object.freeze(copy)
  }
  if (value instanceof Date) {
    // An Invalid Date has no wire form (superjson and JSON both turn it into null).
    if (value.getTime() !== value.getTime()) throw new Bad('an Invalid Date cannot be stored')
    size += 40
    return new Date(value.getTime())
  }
  if (value instanceof RegExp) {
    size += utf8(value.source) + 20
    return new RegExp(value)
  }
  if (value instanceof Map || value instanceof Set) {
    const isMap = value instanceof Map
    const copy = isMap ? new Map() : new Set()
    more(16)
    try {
      for (const entry of value) {
        if (isMap) (copy as Map<unknown, unknown>).set(walk(entry[0], d), walk(entry[1], d))
        else (copy as Set<unknown>).add(walk(entry, d))
        more(4)
        i++
      }
    } catch (e) {
      at(e, `.<${i}>`)
    }
    return copy
  }
  throw new Bad(`a ${proto?.constructor?.name ?? 'object'} instance cannot be stored`)
}

/** The one pass: copies, freezes and sizes; `exact` reads every string (see {@link settle}). */
const copyWithin = (value: unknown, limit: number, exact: boolean): unknown => {
  size = slack = unread = 0
  budget = limit
  try {
    const copy = walk(value, 0)
    if (exact || size + slack > limit) settle()
    return size > limit ? undefined : copy
  } catch (e) {
    if (e === BIG) return undefined
    const bad = e instanceof Bad ? e : new Bad('reading it threw', e)
    throw new TidingsError(
      'INVALID_PAYLOAD',
      `data${bad.path}: ${bad.why}`,
      bad.cause === undefined ? undefined : { cause: bad.cause },
    )
  } finally {
    // The strings of the payload are not kept alive until the next copy.
    while (unread) unreadStrings[--unread] = ''
  }
}

/**
 * {@link snapshot} for publish: the copy, or `undefined` once the size passes `limit`
 * ({@link copiedBytes} then tells the size). Under the limit the size may be an upper bound:
 * text is read char by char only when that decides whether the payload fits.
 *
 * @example
 * const copy = copyPayload({ total: 3 }, 131_072) // a frozen { total: 3 }; copiedBytes() >= 25
 */
export const copyPayload = (value: unknown, limit: number): unknown =>
  copyWithin(value, limit, false)

/**
 * The size {@link copyPayload} found for the payload it copied last: exact when it was over its
 * limit, at least the exact size otherwise.
 *
 * @example
 * copyPayload('x'.repeat(200), 100) // undefined
 * copiedBytes() // 202
 */
export const copiedBytes = (): number => size + slack

/**
 * Copies a payload into values the bus owns and every store can keep (plain objects and arrays,
 * primitives, Date, Map, Set, BigInt, RegExp), frozen so no listener can change what others see.
 * Returns the copy and its size as wire JSON (strings counted in UTF-8), in one pass that stops as
 * soon as the size passes `limit`: then the copy is `undefined` and the size is over `limit`.
 * Anything else (functions, symbols, class instances, typed arrays, cycles, a getter or Proxy trap
 * that throws: its error is the `cause`) is refused with `INVALID_PAYLOAD` naming the path. An own
 * `__proto__` key stays an own key of the copy.
 *
 * @example
 * const [copy, bytes] = snapshot({ total: 3 }, 131_072) // a frozen { total: 3 }, 25
 * snapshot(new Array(1e9), 1000)[1] > 1000 // true, after about 80 holes
 */
export const snapshot = (
  value: unknown,
  limit: number = Infinity,
): [copy: unknown, bytes: number] => {
  const copy = copyWithin(value, limit, true)
  return [copy, size]
}
