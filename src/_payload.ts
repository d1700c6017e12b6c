import { fail } from './errors.js'

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

/**
 * Copies a payload into values the bus owns and every store can keep (plain objects and arrays,
 * primitives, Date, Map, Set, BigInt, RegExp), frozen so no listener can change what others see.
 * Returns the copy and its size as wire JSON (strings counted in UTF-8). Anything else (functions,
 * symbols, class instances, typed arrays, cycles) is refused with `INVALID_PAYLOAD` naming the path.
 */
export const snapshot = (value: unknown, path = 'data', depth = 0): [copy: unknown, bytes: number] => {
  switch (typeof value) {
    case 'string': return [value, utf8(value)]
    case 'number': return [value, 12]
    case 'boolean': return [value, 5]
    case 'undefined': return [value, 12]
    case 'bigint': return [value, String(value).length + 12]
    case 'object': break
    default: return fail('INVALID_PAYLOAD', `${path}: a ${typeof value} cannot be stored`)
  }
  if (value === null) return [null, 4]
  if (depth > MAX_DEPTH) fail('INVALID_PAYLOAD', `${path}: nested deeper than ${MAX_DEPTH} levels (a cycle?)`)
  const d = depth + 1
  let bytes = 2
  if (Array.isArray(value)) {
    const copy = new Array(value.length)
    for (let i = 0; i < value.length; i++) {
      const [c, b] = snapshot(value[i], `${path}[${i}]`, d)
      copy[i] = c
      bytes += b + 1
    }
    return [Object.freeze(copy), bytes]
  }
  const proto = Object.getPrototypeOf(value)
  if (proto === Object.prototype || proto === null) {
    const copy: Record<string, unknown> = {}
    for (const k in value) {
      const [c, b] = snapshot((value as Record<string, unknown>)[k], `${path}.${k}`, d)
      copy[k] = c
      bytes += utf8(k) + b + 2
    }
    return [Object.freeze(copy), bytes]
  }
  if (value instanceof Date) return [new Date(value.getTime()), 40]
  if (value instanceof RegExp) return [new RegExp(value), utf8(value.source) + 20]
  if (value instanceof Map) {
    const copy = new Map()
    let i = 0
    for (const [k, v] of value) {
      const [ck, bk] = snapshot(k, `${path}.<key ${i}>`, d)
      const [cv, bv] = snapshot(v, `${path}.${typeof k === 'string' ? k : `<${i}>`}`, d)
      copy.set(ck, cv)
      bytes += bk + bv + 4
      i++
    }
    return [copy, bytes + 16]
  }
  if (value instanceof Set) {
    const copy = new Set()
    let i = 0
    for (const v of value) {
      const [c, b] = snapshot(v, `${path}.<${i++}>`, d)
      copy.add(c)
      bytes += b + 1
    }
    return [copy, bytes + 16]
  }
  return fail('INVALID_PAYLOAD', `${path}: a ${proto?.constructor?.name ?? 'object'} instance cannot be stored (use plain objects, arrays, Date, Map, Set)`)
}
