import { TidingsError } from '../errors.js'
import type { BusEvent } from '../event.js'
import { parseCidr } from './cidr.js'
import { ignoreCase, matchTokens, parseWildcard, wildcardMatcher, type Token } from './glob.js'

type Scalar = string | number | boolean | null
type Op = '<' | '<=' | '=' | '>=' | '>'
type IgnoreCase = { 'equals-ignore-case': string }
type OneOrMany<T> = T | readonly T[]

/**
 * One alternative of a filter leaf (EventBridge's event-pattern operators): an exact value, or one
 * operator. String operators match strings only, `numeric` numbers only, `cidr` IP address strings.
 *
 * @example
 * const rules: FilterRule[] = ['FR', { prefix: 'AB-' }, { numeric: ['>=', 100, '<', 200] }, { exists: false },
 *   { wildcard: '*.png' }, { cidr: '10.0.0.0/8' }, { prefix: { 'equals-ignore-case': 'ab-' } },
 *   { 'anything-but': { wildcard: ['*.tmp', '*.bak'] } }]
 */
export type FilterRule =
  | Scalar
  | { prefix: string | IgnoreCase }
  | { suffix: string | IgnoreCase }
  | IgnoreCase
  | { wildcard: string }
  | { cidr: string }
  | { exists: boolean }
  | { numeric: readonly [Op, number] | readonly ['>' | '>=', number, '<' | '<=', number] }
  | {
      'anything-but':
        | Scalar
        | readonly Scalar[]
        | { prefix: OneOrMany<string> }
        | { suffix: OneOrMany<string> }
        | { 'equals-ignore-case': OneOrMany<string> }
        | { wildcard: OneOrMany<string> }
    }

/**
 * A JSON-serializable filter over the event envelope. Keys AND; a leaf is a non-empty array of
 * rules that OR; a nested object descends into that field (`data: { ... }` into the payload);
 * `$or: [filterA, filterB, ...]` matches when any sub-filter does, `$and: [...]` when all do (each
 * takes at least two).
 *
 * @example
 * const f: Filter = { source: ['web'], data: { total: [{ numeric: ['>=', 100] }], $or: [{ vip: [true] }, { country: ['FR'] }] } }
 */
export type Filter = {
  [field: string]: readonly FilterRule[] | Filter | readonly Filter[]
  $or?: readonly Filter[]
  $and?: readonly Filter[]
}

/**
 * A compiled filter, or a function predicate given in its place (local subscriptions only).
 *
 * @example
 * const big: EventPredicate = (e) => (e.data as { total: number }).total > 100
 */
export type EventPredicate<E extends BusEvent = BusEvent> = (event: E) => boolean

/** The deepest a filter may nest (objects, `$or` and `$and` each count a level). */
const MAX_FILTER_DEPTH = 32
/** The most keys, rules and list items one filter may hold, so a sparse array cannot stall compiling. */
const MAX_PARTS = 100_000

type Test = (v: unknown) => boolean

const OPS: Record<Op, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>=': (a, b) => a >= b,
  '>': (a, b) => a > b,
}

/** Compiling state: the path being read (for messages), the parts left, the objects open (cycles). */
interface Ctx {
  at: string
  parts: number
  open: Set<object>
}

function bad(path: string, why: string): never {
  throw new TidingsError('INVALID_FILTER', `filter${path && ' ' + path}: ${why}`)
}
const show = (x: unknown): string =>
  typeof x === 'string'
    ? JSON.stringify(x)
    : Array.isArray(x)
      ? 'an array'
      : x && typeof x === 'object'
        ? 'an object'
        : String(x)
const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)
const isScalar = (x: unknown): x is Scalar =>
  x === null ||
  typeof x === 'string' ||
  typeof x === 'boolean' ||
  (typeof x === 'number' && Number.isFinite(x))

// ---------- the event side ----------

/** An object the filter descends into (a plain record), as opposed to a leaf value. */
const isRecord = (x: unknown): boolean => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}
const get = (o: unknown, k: string): unknown => (isObj(o) && Object.hasOwn(o, k) ? o[k] : undefined)
// Arrays nest at most this deep in the event before the rest is ignored (a cyclic array ends here).
const MAX_ARRAY_DEPTH = 1024

/**
 * Whether `f` holds for any element of `a`, arrays of arrays flattened at any depth (as EventBridge
 * does), without recursion. Reports through `seen` whether any element was visited at all.
 */
const someFlat = (
  a: readonly unknown[],
  f: (x: unknown) => boolean,
  seen?: { any: boolean },
): boolean => {
  const stack: [readonly unknown[], number][] = []
  let cur = a,
    i = 0
  for (;;) {
    if (i < cur.length) {
      const x = cur[i++]
      if (Array.isArray(x)) {
        if (stack.length < MAX_ARRAY_DEPTH) {
          stack.push([cur, i])
          cur = x
          i = 0
        }
      } else {
        if (seen) seen.any = true
        if (f(x)) return true
      }
    } else {
      const top = stack.pop()
      if (!top) return false
      ;[cur, i] = top
    }
  }
}

/** A value EventBridge would see as a field's value: present, and neither an array nor an object. */
const isLeaf = (x: unknown): boolean => x !== undefined && !isRecord(x)

/**
 * A field's rules over its value. `exists` looks at leaves only (EventBridge: a field holding an
 * object or an empty array does not exist); every other rule needs a leaf it accepts.
 */
const leafField = (tests: Test[], existsTrue: boolean, existsFalse: boolean): Test => {
  const accepts = (x: unknown) => existsTrue || tests.some((t) => t(x))
  return (v) => {
    if (!Array.isArray(v)) return isLeaf(v) ? accepts(v) : existsFalse
    if (someFlat(v, (x) => isLeaf(x) && accepts(x))) return true
    return existsFalse && !someFlat(v, isLeaf)
  }
}

/**
 * A nested filter over a field's value: over each element when it is an array (arrays of arrays
 * flattened), so that two fields must match within one element (EventBridge's array consistency);
 * an empty array is an absent field.
 */
const nestedField =
  (t: Test): Test =>
  (v) => {
    if (!Array.isArray(v)) return t(v)
    const seen = { any: false }
    return someFlat(v, t, seen) || (!seen.any && t(undefined))
  }

// ---------- the filter side ----------

const count = (ctx: Ctx, n: number, path: string) => {
  if ((ctx.parts -= n) < 0)
    bad(path, `is too large: a filter holds at most ${MAX_PARTS} keys, rules and list items`)
}

/** The items of a filter array, read once each (holes and all, so a sparse array is counted by its length). */
const items = (a: readonly unknown[], ctx: Ctx, path: string): unknown[] => {
  // A Proxy may answer any length, and a different one each time: read it once, and only if sane.
  const n: unknown = a.length
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) bad(path, 'has an invalid length')
  count(ctx, n, path)
  const out: unknown[] = []
  for (let i = 0; i < n; i++) out.push(a[i])
  return out
}

/** A string, or a non-empty list of strings, as a list (for `anything-but: { op: … }`). */
const strings = (x: unknown, op: string, ctx: Ctx, path: string): string[] => {
  const list = Array.isArray(x) ? items(x, ctx, path) : [x]
  if (!list.length || !list.every((s) => typeof s === 'string'))
    bad(path, `anything-but ${op} takes a string or a non-empty list of strings, got ${show(x)}`)
  return list as string[]
}

const tokensTest =
  (tokens: Token[]): Test =>
  (v) =>
    typeof v === 'string' && matchTokens(tokens, v)

const wildcard = (w: string, path: string, what: string): Test => {
  const t = parseWildcard(w)
  if (typeof t === 'string') bad(path, `${what} ${JSON.stringify(w)} ${t}`)
  const match = wildcardMatcher(t)
  return (v) => typeof v === 'string' && match(v)
}

/** `prefix`/`suffix`: a string, or `{ 'equals-ignore-case': string }`. */
const affix = (op: 'prefix' | 'suffix', a: unknown, path: string): Test => {
  if (typeof a === 'string')
    return op === 'prefix'
      ? (v) => typeof v === 'string' && v.startsWith(a)
      : (v) => typeof v === 'string' && v.endsWith(a)
  if (isObj(a)) {
    const keys = Object.keys(a)
    const s = a['equals-ignore-case']
    if (keys.length === 1 && keys[0] === 'equals-ignore-case' && typeof s === 'string') {
      return tokensTest(op === 'prefix' ? [...ignoreCase(s), null] : [null, ...ignoreCase(s)])
    }
  }
  return bad(path, `${op} must be a string or { "equals-ignore-case": string }, got ${show(a)}`)
}

const anythingBut = (a: unknown, ctx: Ctx, path: string): Test => {
  if (isObj(a)) {
    const keys = Object.keys(a)
    const op = keys[0]!
    if (keys.length !== 1 || !['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(op)) {
      bad(
        path,
        'anything-but takes a value, a list of values, or one of { prefix }, { suffix }, { equals-ignore-case }, { wildcard }',
      )
    }
    const list = strings(a[op], op, ctx, path)
    let excluded: Test[]
    if (op === 'prefix' || op === 'suffix') {
      if (list.includes(''))
        bad(
          path,
          `anything-but ${op} "" excludes every string, so it can only match non-strings (EventBridge refuses it)`,
        )
      excluded = list.map((s) => affix(op, s, path))
    } else if (op === 'equals-ignore-case') excluded = list.map((s) => tokensTest(ignoreCase(s)))
    else {
      if (list.includes('*'))
        bad(
          path,
          'anything-but wildcard "*" excludes every string, so it can only match non-strings',
        )
      excluded = list.map((w) => wildcard(w, path, 'anything-but wildcard'))
    }
    // EventBridge compares the JSON text: a value that is not a string is never excluded by these.
    return (v) => !excluded.some((t) => t(v))
  }
  const list = Array.isArray(a) ? items(a, ctx, path) : [a]
  if (!list.length || !list.every(isScalar))
    bad(
      path,
      'anything-but needs a value or a non-empty list of strings, finite numbers, booleans or null',
    )
  return (v) => !list.includes(v as Scalar)
}

const numeric = (a: unknown, path: string): Test => {
  if (!Array.isArray(a) || (a.length !== 2 && a.length !== 4))
    bad(path, 'numeric needs 1 or 2 pairs of operator and number, e.g. [">", 0, "<=", 5]')
  const pairs: [Op, number][] = []
  for (let i = 0; i < a.length; i += 2) {
    const o: unknown = a[i],
      n: unknown = a[i + 1]
    if (typeof o !== 'string' || !Object.hasOwn(OPS, o))
      bad(path, `numeric operator ${show(o)} is not one of <, <=, =, >=, >`)
    if (typeof n !== 'number' || !Number.isFinite(n))
      bad(path, `numeric operand ${show(n)} is not a finite number`)
    pairs.push([o as Op, n])
  }
  if (pairs.length === 2) {
    const [[lo, a1], [hi, b1]] = pairs as [[Op, number], [Op, number]]
    if (lo !== '>' && lo !== '>=')
      bad(path, `a numeric range starts with its lower bound (> or >=), got "${lo}"`)
    if (hi !== '<' && hi !== '<=')
      bad(path, `a numeric range ends with its upper bound (< or <=), got "${hi}"`)
    if (a1 >= b1)
      bad(
        path,
        `numeric range is empty: ${lo} ${a1} and ${hi} ${b1} (the lower bound must be below the upper, as EventBridge requires)`,
      )
  }
  const f = pairs.map(([o, n]) => [OPS[o], n] as const)
  return (v) => typeof v === 'number' && f.every(([op, n]) => op(v, n))
}

/** One rule: a test over a leaf, or an `exists` flag. */
const rule = (r: unknown, ctx: Ctx, path: string): Test | { exists: boolean } => {
  ctx.at = path
  if (isScalar(r)) return (v) => v === r
  if (!isObj(r))
    bad(
      path,
      `a rule must be a string, finite number, boolean, null or { operator: operand }, got ${show(r)}`,
    )
  const keys = Object.keys(r)
  if (keys.length !== 1) bad(path, `a rule object needs exactly one operator, got ${keys.length}`)
  const op = keys[0]!,
    a = r[op]
  switch (op) {
    case 'prefix':
    case 'suffix':
      return affix(op, a, path)
    case 'equals-ignore-case':
      if (typeof a !== 'string') bad(path, `equals-ignore-case must be a string, got ${show(a)}`)
      return tokensTest(ignoreCase(a))
    case 'wildcard':
      if (typeof a !== 'string') bad(path, `wildcard must be a string, got ${show(a)}`)
      return wildcard(a, path, 'wildcard')
    case 'cidr': {
      if (typeof a !== 'string')
        bad(path, `cidr must be a string such as "10.0.0.0/24", got ${show(a)}`)
      const inNet = parseCidr(a)
      if (typeof inNet === 'string') bad(path, `cidr ${JSON.stringify(a)} ${inNet}`)
      return (v) => typeof v === 'string' && inNet(v)
    }
    case 'exists':
      if (typeof a !== 'boolean') bad(path, `exists must be true or false, got ${show(a)}`)
      return { exists: a }
    case 'anything-but':
      return anythingBut(a, ctx, path)
    case 'numeric':
      return numeric(a, path)
  }
  return bad(path, `unknown rule operator ${show(op)}`)
}

const object = (f: unknown, ctx: Ctx, path: string, depth: number): Test => {
  ctx.at = path
  if (!isObj(f))
    bad(
      path,
      `must be ${path ? 'a filter object' : 'a filter object or a function'}, got ${show(f)}`,
    )
  if (ctx.open.has(f)) bad(path, 'is cyclic: it contains itself')
  if (depth > MAX_FILTER_DEPTH) bad(path, `nests deeper than ${MAX_FILTER_DEPTH} levels`)
  ctx.open.add(f)
  const keys = Object.keys(f)
  count(ctx, keys.length, path)
  if (!keys.length && depth > 0)
    bad(path, 'is an empty object (EventBridge refuses it; remove the key instead)')
  const tests = keys.map((k): Test => {
    const p = path ? `${path}.${k}` : k
    ctx.at = p
    const sub = f[k]
    if (k === '$or' || k === '$and') {
      const list = Array.isArray(sub) ? items(sub, ctx, p) : []
      if (list.length < 2)
        bad(
          p,
          `${k} must be an array of at least 2 filter objects (EventBridge refuses fewer), got ${show(sub)}`,
        )
      const alts = list.map((s, i) => object(s, ctx, `${p}[${i}]`, depth + 1))
      return k === '$or' ? (o) => alts.some((t) => t(o)) : (o) => alts.every((t) => t(o))
    }
    if (isObj(sub)) {
      const t = nestedField(object(sub, ctx, p, depth + 1))
      return (o) => t(get(o, k))
    }
    const rules = Array.isArray(sub) ? items(sub, ctx, p) : []
    if (!rules.length)
      bad(p, `must be a non-empty array of rules or a nested filter, got ${show(sub)}`)
    const tests: Test[] = []
    let existsTrue = false,
      existsFalse = false
    rules.forEach((r, i) => {
      const t = rule(r, ctx, `${p}[${i}]`)
      if (typeof t === 'function') tests.push(t)
      else if (t.exists) existsTrue = true
      else existsFalse = true
    })
    const t = leafField(tests, existsTrue, existsFalse)
    return (o) => t(get(o, k))
  })
  ctx.open.delete(f)
  return tests.length === 1 ? tests[0]! : (o) => tests.every((t) => t(o))
}

/**
 * Validates a filter and compiles it to a predicate (a function predicate passes through unchanged).
 * Throws `INVALID_FILTER` naming the path of the bad part, so a malformed filter — or one that can
 * never match, nests deeper than 32 levels, contains itself, or throws when read (its getter or
 * Proxy trap's error becomes the `cause`) — is refused up front. Matching takes time linear in the
 * size of the event times the size of the filter.
 *
 * @example
 * const match = compileFilter({ type: ['order.placed'], data: { total: [{ numeric: ['>=', 100] }] } })
 * match(event) // true when event.data.total >= 100
 * compileFilter({ data: { total: [{ numeric: ['>>', 1] }] } }) // throws: filter data.total[0]: numeric operator ">>" is not one of <, <=, =, >=, >
 */
export const compileFilter = <E extends BusEvent = BusEvent>(
  filter: Filter | EventPredicate<E>,
): EventPredicate<E> => {
  if (typeof filter === 'function') return filter
  const ctx: Ctx = { at: '', parts: MAX_PARTS, open: new Set() }
  try {
    return object(filter, ctx, '', 0)
  } catch (e) {
    if (e instanceof TidingsError) throw e
    throw new TidingsError(
      'INVALID_FILTER',
      `filter${ctx.at && ' ' + ctx.at}: reading it threw (the thrown value is the cause)`,
      { cause: e },
    )
  }
}
