import { fail } from './errors.js'
import type { BusEvent } from './event.js'

type Scalar = string | number | boolean | null
type Op = '<' | '<=' | '=' | '>=' | '>'
type Pred = (v: unknown) => boolean

/**
 * One alternative of a filter leaf (EventBridge event-pattern subset): an exact value, or one operator.
 *
 * @example
 * const rules: FilterRule[] = ['FR', { prefix: 'AB-' }, { numeric: ['>=', 100, '<', 200] }, { exists: false }]
 */
export type FilterRule = Scalar
  | { prefix: string } | { suffix: string } | { 'equals-ignore-case': string }
  | { 'anything-but': Scalar | readonly Scalar[] | { prefix: string } | { suffix: string } }
  | { numeric: readonly (Op | number)[] }
  | { exists: boolean }

/**
 * A JSON-serializable filter over the event envelope. Keys AND; a leaf is a non-empty array of
 * rules that OR; a nested object descends into that field (`data: { ... }` into the payload);
 * `$or: [filterA, filterB]` at any level matches when any sub-filter does.
 *
 * @example
 * const f: Filter = { source: ['web'], data: { total: [{ numeric: ['>=', 100] }], $or: [{ vip: [true] }, { country: ['FR'] }] } }
 */
export type Filter = { [field: string]: readonly FilterRule[] | Filter | readonly Filter[]; $or?: readonly Filter[] }

/**
 * A compiled filter, or a function predicate given in its place (local subscriptions only).
 *
 * @example
 * const big: EventPredicate = (e) => (e.data as { total: number }).total > 100
 */
export type EventPredicate<E extends BusEvent = BusEvent> = (event: E) => boolean

const OPS: Record<Op, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b, '<=': (a, b) => a <= b, '=': (a, b) => a === b, '>=': (a, b) => a >= b, '>': (a, b) => a > b,
}

function bad(path: string, why: string): never {
  return fail('INVALID_FILTER', `filter${path && ' ' + path}: ${why}`)
}
const show = (x: unknown): string =>
  typeof x === 'string' ? JSON.stringify(x) : Array.isArray(x) ? 'an array' : x && typeof x === 'object' ? 'an object' : String(x)
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)
const isScalar = (x: unknown): x is Scalar =>
  x === null || typeof x === 'string' || typeof x === 'boolean' || (typeof x === 'number' && Number.isFinite(x))
const get = (o: unknown, k: string): unknown => (isObj(o) && Object.hasOwn(o, k) ? o[k] : undefined)
/** Lifts a value test to a field: an absent field never matches, an array matches when any element does. */
const each = (t: Pred): Pred => (v) => (Array.isArray(v) ? v.some(t) : v !== undefined && t(v))

const str = (op: string, a: unknown, p: string): Pred => {
  if (typeof a !== 'string') bad(p, `${op} must be a string, got ${show(a)}`)
  const l = a.toLowerCase()
  const t = op === 'prefix' ? (v: string) => v.startsWith(a) : op === 'suffix' ? (v: string) => v.endsWith(a) : (v: string) => v.toLowerCase() === l
  return (v) => typeof v === 'string' && t(v)
}

const rule = (r: unknown, p: string): Pred => {
  if (isScalar(r)) return each((v) => v === r)
  if (!isObj(r)) bad(p, `a rule must be a string, finite number, boolean, null or { operator: operand }, got ${show(r)}`)
  const keys = Object.keys(r)
  if (keys.length !== 1) bad(p, `a rule object needs exactly one operator, got ${keys.length}`)
  const op = keys[0]!, a = r[op]
  switch (op) {
    case 'prefix': case 'suffix': case 'equals-ignore-case': return each(str(op, a, p))
    case 'exists':
      if (typeof a !== 'boolean') bad(p, `exists must be true or false, got ${show(a)}`)
      return (v) => (v !== undefined) === a
    case 'anything-but': {
      if (isObj(a)) {
        const [k, ...more] = Object.keys(a)
        if (more.length || (k !== 'prefix' && k !== 'suffix')) bad(p, 'anything-but takes a value, a list of values, { prefix } or { suffix }')
        const t = str(k, a[k], p)
        return each((v) => !t(v))
      }
      const list: unknown[] = Array.isArray(a) ? a : [a]
      if (!list.length || !list.every(isScalar)) bad(p, 'anything-but needs a value or a non-empty list of strings, finite numbers, booleans or null')
      return each((v) => !list.includes(v as Scalar))
    }
    case 'numeric': {
      if (!Array.isArray(a) || (a.length !== 2 && a.length !== 4)) bad(p, 'numeric needs 1 or 2 pairs of operator and number, e.g. [">", 0, "<=", 5]')
      const pairs = [0, 2].filter((i) => i < a.length).map((i): [(x: number, y: number) => boolean, number] => {
        const o: unknown = a[i], n: unknown = a[i + 1]
        if (typeof o !== 'string' || !Object.hasOwn(OPS, o)) bad(p, `numeric operator ${show(o)} is not one of <, <=, =, >=, >`)
        if (typeof n !== 'number' || !Number.isFinite(n)) bad(p, `numeric operand ${show(n)} is not a finite number`)
        return [OPS[o as Op], n]
      })
      return each((v) => typeof v === 'number' && pairs.every(([f, n]) => f(v, n)))
    }
  }
  return bad(p, `unknown rule operator ${show(op)}`)
}

const object = (f: unknown, path: string): Pred => {
  if (!isObj(f)) bad(path, `must be ${path ? 'a filter object' : 'a filter object or a function'}, got ${show(f)}`)
  const tests = Object.entries(f).map(([k, sub]): Pred => {
    const p = path ? `${path}.${k}` : k
    if (k === '$or') {
      if (!Array.isArray(sub) || !sub.length) bad(p, `$or must be a non-empty array of filter objects, got ${show(sub)}`)
      const alts = sub.map((s, i) => object(s, `${p}[${i}]`))
      return (o) => alts.some((t) => t(o))
    }
    if (isObj(sub)) { const t = object(sub, p); return (o) => { const v = get(o, k); return Array.isArray(v) ? v.some(t) : t(v) } }
    if (!Array.isArray(sub) || !sub.length) bad(p, `must be a non-empty array of rules or a nested filter, got ${show(sub)}`)
    const rules = sub.map((r, i) => rule(r, `${p}[${i}]`))
    return (o) => { const v = get(o, k); return rules.some((t) => t(v)) }
  })
  return (o) => tests.every((t) => t(o))
}

/**
 * Validates a filter and compiles it to a predicate (a function predicate passes through unchanged).
 * Throws `INVALID_FILTER` naming the path of the bad part, so a malformed filter is refused up front.
 *
 * @example
 * const match = compileFilter({ type: ['order.placed'], data: { total: [{ numeric: ['>=', 100] }] } })
 * match(event) // true when event.data.total >= 100
 * compileFilter({ data: { total: [{ numeric: ['>>', 1] }] } }) // throws: filter data.total[0]: numeric operator ">>" is not one of <, <=, =, >=, >
 */
export const compileFilter = <E extends BusEvent = BusEvent>(filter: Filter | EventPredicate<E>): EventPredicate<E> =>
  typeof filter === 'function' ? filter : object(filter, '')
