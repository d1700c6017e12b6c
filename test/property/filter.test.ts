import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { BusEvent } from '../../src/event.js'
import { compileFilter, type Filter } from '../../src/filter/filter.js'
import { runs, settle } from './_oracle.js'

// ---------- a small reference evaluator: recursive, regex-based, no attention to speed ----------

type Json = unknown
const isPlain = (x: unknown): boolean =>
  typeof x === 'object' &&
  x !== null &&
  !Array.isArray(x) &&
  [Object.prototype, null].includes(Object.getPrototypeOf(x))
const flat = (v: unknown): unknown[] => (Array.isArray(v) ? v.flatMap(flat) : [v])
const esc = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&')
const caseless = (s: string) =>
  s
    .split('')
    .map((c) => `(?:${esc(c.toLowerCase())}|${esc(c.toUpperCase())})`)
    .join('')
const regexes = new Map<string, RegExp>()
const regex = (body: string) =>
  regexes.get(body) ?? regexes.set(body, new RegExp(`^${body}$`, 's')).get(body)!
const globBody = (w: string) =>
  w.replace(/\\\\|\\\*|\*|[^*\\]+/g, (t) =>
    t === '*' ? '.*' : esc(t === '\\*' ? '*' : t === '\\\\' ? '\\' : t),
  )

const ipBig = (s: string): [bigint, number] | undefined => {
  if (/^\d+\.\d+\.\d+\.\d+$/.test(s)) {
    const parts = s.split('.').map(Number)
    return parts.every((p) => p < 256)
      ? [parts.reduce((a, p) => (a << 8n) | BigInt(p), 0n), 32]
      : undefined
  }
  if (!/^[0-9a-f:]+$/i.test(s)) return undefined
  const [head, tail] = s.split('::')
  const h = head ? head.split(':') : [],
    t = tail ? tail.split(':') : []
  const words = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h
  if (words.length !== 8) return undefined
  return [words.reduce((a, w) => (a << 16n) | BigInt(parseInt(w, 16)), 0n), 128]
}
const inCidr = (block: string, ip: unknown) => {
  if (typeof ip !== 'string') return false
  const [addr, bits] = block.split('/')
  const b = ipBig(addr!),
    a = ipBig(ip)
  if (!a || !b || a[1] !== b[1]) return false
  const shift = BigInt(b[1] - Number(bits))
  return a[0] >> shift === b[0] >> shift
}

const stringTest = (op: string, arg: string, x: unknown): boolean => {
  if (typeof x !== 'string') return false
  switch (op) {
    case 'prefix':
      return x.startsWith(arg)
    case 'suffix':
      return x.endsWith(arg)
    case 'equals-ignore-case':
      return regex(caseless(arg)).test(x)
    case 'wildcard':
      return regex(globBody(arg)).test(x)
  }
  throw new Error(op)
}

const refRule = (r: Json, x: unknown): boolean => {
  if (r === null || typeof r !== 'object') return x === r
  const [[op, arg]] = Object.entries(r) as [[string, Json]]
  switch (op) {
    case 'prefix':
    case 'suffix':
      if (typeof arg === 'string') return stringTest(op, arg, x)
      return (
        typeof x === 'string' &&
        regex(
          op === 'prefix'
            ? caseless((arg as Record<string, string>)['equals-ignore-case']!) + '.*'
            : '.*' + caseless((arg as Record<string, string>)['equals-ignore-case']!),
        ).test(x)
      )
    case 'equals-ignore-case':
    case 'wildcard':
      return stringTest(op, arg as string, x)
    case 'cidr':
      return inCidr(arg as string, x)
    case 'numeric': {
      const a = arg as (string | number)[]
      const cmp: Record<string, (p: number, q: number) => boolean> = {
        '<': (p, q) => p < q,
        '<=': (p, q) => p <= q,
        '=': (p, q) => p === q,
        '>=': (p, q) => p >= q,
        '>': (p, q) => p > q,
      }
      return (
        typeof x === 'number' &&
        (a.length === 2
          ? cmp[a[0] as string]!(x, a[1] as number)
          : cmp[a[0] as string]!(x, a[1] as number) && cmp[a[2] as string]!(x, a[3] as number))
      )
    }
    case 'anything-but': {
      if (arg !== null && typeof arg === 'object' && !Array.isArray(arg)) {
        const [[sub, vals]] = Object.entries(arg) as [[string, string | string[]]]
        return ![vals].flat().some((v) => stringTest(sub, v, x))
      }
      return ![arg].flat().includes(x)
    }
  }
  throw new Error(`reference: no operator ${op}`)
}

const refMatch = (f: Record<string, Json>, o: unknown): boolean =>
  Object.entries(f).every(([k, sub]) => {
    if (k === '$or') return (sub as Record<string, Json>[]).some((g) => refMatch(g, o))
    if (k === '$and') return (sub as Record<string, Json>[]).every((g) => refMatch(g, o))
    const v =
      typeof o === 'object' && o !== null && !Array.isArray(o) && Object.hasOwn(o, k)
        ? (o as Record<string, unknown>)[k]
        : undefined
    if (Array.isArray(sub)) {
      const leaves = flat(v).filter((x) => x !== undefined && !isPlain(x))
      return sub.some((r) => {
        if (r && typeof r === 'object' && 'exists' in r)
          return (r as { exists: boolean }).exists === leaves.length > 0
        return leaves.some((x) => refRule(r, x))
      })
    }
    const elements = flat(v)
    return Array.isArray(v) && !elements.length
      ? refMatch(sub as Record<string, Json>, undefined)
      : elements.some((e) => refMatch(sub as Record<string, Json>, e))
  })

// ---------- generators: a small alphabet so that matches happen ----------

const STRINGS = [
  'a',
  'A',
  'ab',
  'aB',
  'abc',
  'x.png',
  'X.PNG',
  '',
  'ß',
  'SS',
  'ss',
  'a*c',
  '10.0.0.1',
  '10.0.1.7',
  '192.168.1.1',
  '2001:db8::1',
  '2001:db9::1',
  '::1',
]
const NUMBERS = [0, 1, 5, 30, -1, 2.5, 100]
const KEYS = ['a', 'b', 'c']
const scalar = fc.oneof(
  fc.constantFrom<Json>(...STRINGS),
  fc.constantFrom<Json>(...NUMBERS),
  fc.boolean(),
  fc.constant(null),
)
const { value: eventValue } = fc.letrec<{ value: Json }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 3 }),
  ),
}))
const str = fc.constantFrom(...STRINGS.filter((s) => s !== ''), 'a', 'b', 'X')
const glob = fc.constantFrom('a*', '*b', '*', 'a*c', '*.png', 'x\\*', '*a*', '\\\\', 'A*B')
const strs = fc.oneof(str, fc.array(str, { minLength: 1, maxLength: 3 }))
const lower = fc.constantFrom('>', '>='),
  upper = fc.constantFrom('<', '<=')
const numeric = fc.oneof(
  fc.tuple(fc.constantFrom('<', '<=', '=', '>=', '>'), fc.constantFrom(...NUMBERS)),
  fc
    .tuple(lower, fc.constantFrom(...NUMBERS), upper, fc.constantFrom(...NUMBERS))
    .filter(([, a, , b]) => a < b),
)
const rule: fc.Arbitrary<Json> = fc.oneof(
  scalar,
  fc.record({ prefix: fc.oneof(str, fc.record({ 'equals-ignore-case': str })) }),
  fc.record({ suffix: fc.oneof(str, fc.record({ 'equals-ignore-case': str })) }),
  fc.record({ 'equals-ignore-case': str }),
  fc.record({ wildcard: glob }),
  fc.record({
    cidr: fc.constantFrom(
      '10.0.0.0/24',
      '10.0.0.0/8',
      '0.0.0.0/0',
      '2001:db8::/32',
      '::/0',
      '10.0.0.1/32',
    ),
  }),
  fc.record({ exists: fc.boolean() }),
  fc.record({ numeric }),
  fc.record({
    'anything-but': fc.oneof(
      scalar,
      fc.array(scalar, { minLength: 1, maxLength: 3 }),
      fc.record({ prefix: strs }),
      fc.record({ suffix: strs }),
      fc.record({ 'equals-ignore-case': strs }),
      fc.record({
        wildcard: fc.oneof(
          glob.filter((g) => g !== '*'),
          fc.array(
            glob.filter((g) => g !== '*'),
            { minLength: 1, maxLength: 2 },
          ),
        ),
      }),
    ),
  }),
)
const { filter } = fc.letrec<{ filter: Record<string, Json>; field: Json }>((tie) => ({
  filter: fc.oneof(
    { depthSize: 'small' },
    fc.dictionary(fc.constantFrom(...KEYS), tie('field'), { minKeys: 1, maxKeys: 3 }),
    fc.record({ $or: fc.array(tie('filter'), { minLength: 2, maxLength: 3 }) }),
    fc.record({ $and: fc.array(tie('filter'), { minLength: 2, maxLength: 3 }) }),
  ),
  field: fc.oneof(
    { depthSize: 'small' },
    fc.array(rule, { minLength: 1, maxLength: 3 }),
    tie('filter'),
  ),
}))

describe('filters against a reference evaluator', () => {
  it('compileFilter agrees with the reference on generated events and filters (every operator)', () => {
    fc.assert(
      fc.property(
        filter,
        fc.dictionary(fc.constantFrom(...KEYS), eventValue, { maxKeys: 3 }),
        (f, event) => {
          expect(compileFilter(f as Filter)(event as unknown as BusEvent)).toBe(refMatch(f, event))
        },
      ),
      runs(3000),
    )
  }, 60_000)
})

// ---------- any input: compiled, or refused with INVALID_FILTER ----------

const hostile = fc.constantFrom<() => unknown>(
  () => {
    const c: Record<string, unknown> = { a: ['x'] }
    c.b = c
    return c
  },
  () => {
    const c: Record<string, unknown> = { a: ['x'] }
    c.$or = [c, { b: ['y'] }]
    return c
  },
  () => {
    let f: unknown = { x: ['y'] }
    for (let i = 0; i < 5000; i++) f = { a: f }
    return f
  },
  () => {
    let f: unknown = { x: ['y'] }
    for (let i = 0; i < 40; i++) f = { $or: [f, { z: ['w'] }] }
    return f
  },
  () => ({
    a: {
      get b() {
        throw new Error('getter')
      },
    },
  }),
  () => ({
    a: [
      {
        get prefix() {
          throw 'a string thrown'
        },
      },
    ],
  }),
  () =>
    new Proxy(
      {},
      {
        ownKeys() {
          throw new Error('trap')
        },
      },
    ),
  () => ({
    a: new Proxy([1], {
      get() {
        throw new Error('trap')
      },
    }),
  }),
  () => {
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    return { a: proxy }
  },
  () => ({
    $or: new Proxy([{ a: ['x'] }, { b: ['y'] }], {
      get: (t, k) => (k === 'length' ? Number.NaN : Reflect.get(t, k)),
    }),
  }),
  () => ({ a: [Symbol('s')] }),
  () => ({ a: [10n], b: [{ numeric: ['>', 10n] }] }),
  () => ({ a: [() => 1] }),
  () => {
    const a: unknown[] = []
    a.length = 2 ** 32 - 1
    return { x: a }
  },
  () => ({ a: [{ cidr: '1.2.3.4/' + 'x'.repeat(1000) }] }),
)
const OPERATORS = [
  'prefix',
  'suffix',
  'wildcard',
  'cidr',
  'numeric',
  'exists',
  'anything-but',
  'equals-ignore-case',
  '$or',
  '$and',
  'a',
  'b',
]
const { anyFilter } = fc.letrec<{ anyFilter: unknown }>((tie) => ({
  anyFilter: fc.oneof(
    { depthSize: 'small' },
    fc.anything({ maxDepth: 3 }),
    fc.dictionary(fc.constantFrom(...OPERATORS), tie('anyFilter'), { maxKeys: 3 }),
    fc.array(tie('anyFilter'), { maxLength: 4 }),
    rule,
    filter,
    hostile.map((make) => make()),
  ),
}))

describe('compiling any input', () => {
  it('succeeds, or refuses with INVALID_FILTER (hostile inputs included), and the predicate never throws', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyFilter,
        fc.dictionary(fc.constantFrom(...KEYS), eventValue, { maxKeys: 3 }),
        async (input, event) => {
          const r = await settle(() => compileFilter(input as Filter))
          if (!r.ok) expect(r.error.code).toBe('INVALID_FILTER')
          else if (typeof input !== 'function')
            expect(typeof (r.value as (e: unknown) => boolean)(event)).toBe('boolean')
        },
      ),
      runs(3000),
    )
  }, 60_000)
})
