import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import { compileFilter, type EventPredicate, type Filter } from '../src/filter/filter.js'
import { TidingsError } from '../src/errors.js'
import { matchTokens, parseWildcard, wildcardMatcher, type Token } from '../src/filter/glob.js'
import type { BusEvent } from '../src/event.js'

const ev = (data: unknown, over: Partial<BusEvent> = {}): BusEvent => ({
  id: 'e1',
  type: 'order.placed',
  source: 'web',
  time: 1,
  seq: 1,
  data,
  ...over,
})
/** Whether `filter` matches an event with payload `data`. */
const hit = (filter: Filter, data: unknown, over?: Partial<BusEvent>) =>
  compileFilter(filter)(ev(data, over))
const refusal = (filter: unknown) => {
  try {
    compileFilter(filter as Filter)
  } catch (e) {
    expect(e).toBeInstanceOf(TidingsError)
    return [(e as TidingsError).code, (e as Error).message] as const
  }
  return undefined
}

describe('exact values', () => {
  it('matches strings, numbers, booleans and null with ===', () => {
    expect(hit({ data: { c: ['FR', 'DE'] } }, { c: 'DE' })).toBe(true)
    expect(hit({ data: { c: ['FR', 'DE'] } }, { c: 'fr' })).toBe(false)
    expect(hit({ data: { n: [5] } }, { n: 5 })).toBe(true)
    expect(hit({ data: { n: [5] } }, { n: '5' })).toBe(false)
    expect(hit({ data: { b: [true] } }, { b: true })).toBe(true)
    expect(hit({ data: { b: [true] } }, { b: 'true' })).toBe(false)
    expect(hit({ data: { z: [null] } }, { z: null })).toBe(true)
    expect(hit({ data: { z: [null] } }, {})).toBe(false)
    expect(hit({ data: { z: [null] } }, { z: 0 })).toBe(false)
  })
  it('matches an array in the event when any element matches', () => {
    expect(hit({ data: { tags: ['vip'] } }, { tags: ['new', 'vip'] })).toBe(true)
    expect(hit({ data: { tags: ['vip'] } }, { tags: ['new'] })).toBe(false)
    expect(hit({ data: { tags: ['vip'] } }, { tags: [] })).toBe(false)
    expect(hit({ data: { n: [{ numeric: ['>', 10] }] } }, { n: [1, 2, 11] })).toBe(true)
  })
  it('never matches an absent field, nor a missing or non-object parent', () => {
    expect(hit({ data: { c: ['FR'] } }, {})).toBe(false)
    expect(hit({ data: { c: ['FR'] } }, undefined)).toBe(false)
    expect(hit({ data: { c: ['FR'] } }, 'FR')).toBe(false)
    expect(hit({ data: { a: { b: ['x'] } } }, { a: 'x' })).toBe(false)
  })
  it('reads own fields only, not inherited ones', () => {
    expect(hit({ data: { constructor: [{ exists: true }] } }, {})).toBe(false)
    expect(hit({ data: { toString: [{ exists: false }] } }, {})).toBe(true)
  })
})

describe('string operators', () => {
  it('prefix', () => {
    expect(hit({ data: { sku: [{ prefix: 'AB-' }] } }, { sku: 'AB-12' })).toBe(true)
    expect(hit({ data: { sku: [{ prefix: 'AB-' }] } }, { sku: 'ab-12' })).toBe(false)
    expect(hit({ data: { sku: [{ prefix: '1' }] } }, { sku: 12 })).toBe(false)
  })
  it('suffix', () => {
    expect(hit({ data: { f: [{ suffix: '.png' }] } }, { f: 'a.png' })).toBe(true)
    expect(hit({ data: { f: [{ suffix: '.png' }] } }, { f: 'a.png.txt' })).toBe(false)
    expect(hit({ data: { f: [{ suffix: '2' }] } }, { f: 12 })).toBe(false)
  })
  it('equals-ignore-case', () => {
    expect(hit({ data: { c: [{ 'equals-ignore-case': 'fr' }] } }, { c: 'Fr' })).toBe(true)
    expect(hit({ data: { c: [{ 'equals-ignore-case': 'FR' }] } }, { c: 'fra' })).toBe(false)
    expect(hit({ data: { c: [{ 'equals-ignore-case': 'true' }] } }, { c: true })).toBe(false)
  })
})

describe('exists', () => {
  it('true matches a present field (null included), false an absent or undefined one', () => {
    const yes = { data: { coupon: [{ exists: true }] } },
      no = { data: { coupon: [{ exists: false }] } }
    expect(hit(yes, { coupon: 'X' })).toBe(true)
    expect(hit(yes, { coupon: null })).toBe(true)
    expect(hit(yes, {})).toBe(false)
    expect(hit(no, {})).toBe(true)
    expect(hit(no, { coupon: undefined })).toBe(true)
    expect(hit(no, { coupon: 'X' })).toBe(false)
    expect(hit(no, undefined)).toBe(true)
  })
  it('works on envelope fields', () => {
    expect(compileFilter({ key: [{ exists: false }] })(ev({}))).toBe(true)
    expect(compileFilter({ key: [{ exists: false }] })(ev({}, { key: 'k1' }))).toBe(false)
  })
})

describe('anything-but', () => {
  it('with one value or a list', () => {
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, { s: 'live' })).toBe(true)
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, { s: 'test' })).toBe(false)
    expect(hit({ data: { s: [{ 'anything-but': ['test', 'dev'] }] } }, { s: 'dev' })).toBe(false)
    expect(hit({ data: { s: [{ 'anything-but': ['test', 'dev'] }] } }, { s: 'prod' })).toBe(true)
    expect(hit({ data: { n: [{ 'anything-but': [0, null] }] } }, { n: 0 })).toBe(false)
    expect(hit({ data: { n: [{ 'anything-but': [0, null] }] } }, { n: null })).toBe(false)
    expect(hit({ data: { n: [{ 'anything-but': [0, null] }] } }, { n: 1 })).toBe(true)
  })
  it('requires the field to be present', () => {
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, {})).toBe(false)
  })
  it('with prefix or suffix', () => {
    expect(hit({ data: { s: [{ 'anything-but': { prefix: 'tmp-' } }] } }, { s: 'tmp-1' })).toBe(
      false,
    )
    expect(hit({ data: { s: [{ 'anything-but': { prefix: 'tmp-' } }] } }, { s: 'job-1' })).toBe(
      true,
    )
    expect(hit({ data: { s: [{ 'anything-but': { suffix: '.tmp' } }] } }, { s: 'a.tmp' })).toBe(
      false,
    )
    expect(hit({ data: { s: [{ 'anything-but': { suffix: '.tmp' } }] } }, { s: 'a.txt' })).toBe(
      true,
    )
    expect(hit({ data: { s: [{ 'anything-but': { suffix: '.tmp' } }] } }, {})).toBe(false)
  })
  it('on an array matches when any element is not excluded (EventBridge)', () => {
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, { s: ['test', 'live'] })).toBe(true)
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, { s: ['test'] })).toBe(false)
  })
})

describe('numeric', () => {
  it('compares with each operator, boundaries included or not', () => {
    const at = (op: '<' | '<=' | '=' | '>=' | '>', n: number) => (v: unknown) =>
      hit({ data: { n: [{ numeric: [op, n] }] } }, { n: v })
    expect([9, 10, 11].map(at('<', 10))).toEqual([true, false, false])
    expect([9, 10, 11].map(at('<=', 10))).toEqual([true, true, false])
    expect([9, 10, 11].map(at('=', 10))).toEqual([false, true, false])
    expect([9, 10, 11].map(at('>=', 10))).toEqual([false, true, true])
    expect([9, 10, 11].map(at('>', 10))).toEqual([false, false, true])
  })
  it('ranges with two pairs', () => {
    const f: Filter = { data: { total: [{ numeric: ['>=', 100, '<', 200] }] } }
    expect([99.99, 100, 150, 199.5, 200].map((total) => hit(f, { total }))).toEqual([
      false,
      true,
      true,
      true,
      false,
    ])
    const g: Filter = { data: { n: [{ numeric: ['>', 0, '<=', 5] }] } }
    expect([0, 0.1, 5, 5.1].map((n) => hit(g, { n }))).toEqual([false, true, true, false])
  })
  it('only matches numbers, not numeric strings, and not absent fields', () => {
    const f: Filter = { data: { n: [{ numeric: ['>', 0] }] } }
    expect(hit(f, { n: '5' })).toBe(false)
    expect(hit(f, { n: true })).toBe(false)
    expect(hit(f, {})).toBe(false)
  })
})

describe('combining', () => {
  it('ANDs keys and ORs the rules of a leaf', () => {
    const f: Filter = { data: { c: ['FR', { prefix: 'D' }], n: [{ numeric: ['>', 1] }] } }
    expect(hit(f, { c: 'FR', n: 2 })).toBe(true)
    expect(hit(f, { c: 'DE', n: 2 })).toBe(true)
    expect(hit(f, { c: 'DE', n: 1 })).toBe(false)
    expect(hit(f, { c: 'IT', n: 2 })).toBe(false)
  })
  it('descends into nested objects, and into each object of an array', () => {
    const f: Filter = { data: { customer: { address: { country: ['FR'] } } } }
    expect(hit(f, { customer: { address: { country: 'FR' } } })).toBe(true)
    expect(hit(f, { customer: { address: { country: 'DE' } } })).toBe(false)
    expect(hit(f, { customer: {} })).toBe(false)
    const g: Filter = { data: { items: { sku: ['A'], qty: [{ numeric: ['>', 1] }] } } }
    expect(
      hit(g, {
        items: [
          { sku: 'B', qty: 5 },
          { sku: 'A', qty: 2 },
        ],
      }),
    ).toBe(true)
    expect(
      hit(g, {
        items: [
          { sku: 'B', qty: 5 },
          { sku: 'A', qty: 1 },
        ],
      }),
    ).toBe(false)
  })
  it('$or at the top level, ANDed with its siblings', () => {
    const f: Filter = {
      type: ['order.placed'],
      $or: [{ source: ['web'] }, { data: { vip: [true] } }],
    }
    expect(compileFilter(f)(ev({}, { source: 'web' }))).toBe(true)
    expect(compileFilter(f)(ev({ vip: true }, { source: 'pos' }))).toBe(true)
    expect(compileFilter(f)(ev({ vip: false }, { source: 'pos' }))).toBe(false)
    expect(compileFilter(f)(ev({ vip: true }, { type: 'order.paid' }))).toBe(false)
  })
  it('$or nested inside data', () => {
    const f: Filter = {
      data: {
        $or: [{ total: [{ numeric: ['>=', 100] }] }, { country: ['FR'], express: [true] }],
        status: ['new'],
      },
    }
    expect(hit(f, { total: 150, status: 'new' })).toBe(true)
    expect(hit(f, { total: 10, country: 'FR', express: true, status: 'new' })).toBe(true)
    expect(hit(f, { total: 10, country: 'FR', express: false, status: 'new' })).toBe(false)
    expect(hit(f, { total: 150, status: 'old' })).toBe(false)
  })
  it('an empty filter matches everything', () => {
    expect(compileFilter({})(ev(undefined))).toBe(true)
  })
})

describe('envelope fields', () => {
  it('source, type and key', () => {
    const f: Filter = { source: ['web', 'app'], type: [{ prefix: 'order.' }], key: ['cust-1'] }
    expect(compileFilter(f)(ev({}, { key: 'cust-1' }))).toBe(true)
    expect(compileFilter(f)(ev({}, { key: 'cust-1', source: 'cron' }))).toBe(false)
    expect(compileFilter(f)(ev({}, { key: 'cust-1', type: 'user.created' }))).toBe(false)
    expect(compileFilter(f)(ev({}, { key: 'cust-2' }))).toBe(false)
    expect(compileFilter(f)(ev({}))).toBe(false)
  })
  it('correlationId and time', () => {
    const f: Filter = { correlationId: [{ exists: true }], time: [{ numeric: ['>=', 1000] }] }
    expect(compileFilter(f)(ev({}, { correlationId: 'c', time: 1000 }))).toBe(true)
    expect(compileFilter(f)(ev({}, { correlationId: 'c', time: 999 }))).toBe(false)
    expect(compileFilter(f)(ev({}, { time: 1000 }))).toBe(false)
  })
})

describe('the DESIGN.md example', () => {
  const f: Filter = {
    source: ['web'],
    data: {
      total: [{ numeric: ['>=', 100] }],
      country: ['FR', 'DE'],
      coupon: [{ exists: false }],
      sku: [{ prefix: 'AB-' }],
      status: [{ 'anything-but': ['test'] }],
    },
  }
  const good = { total: 120, country: 'DE', sku: 'AB-7', status: 'paid' }
  const match = compileFilter(f)
  it('matches an event meeting every condition', () => {
    expect(match(ev(good))).toBe(true)
  })
  it.each([
    ['source', {}, { source: 'app' }],
    ['total', { total: 99 }, {}],
    ['country', { country: 'IT' }, {}],
    ['coupon', { coupon: 'X10' }, {}],
    ['sku', { sku: 'XY-7' }, {}],
    ['status', { status: 'test' }, {}],
  ] as const)('refuses an event that fails on %s', (_, data, over) => {
    expect(match(ev({ ...good, ...data }, over))).toBe(false)
  })
  it('survives a JSON round trip', () => {
    expect(compileFilter(JSON.parse(JSON.stringify(f)) as Filter)(ev(good))).toBe(true)
  })
})

describe('function predicates', () => {
  it('pass through unchanged', () => {
    const p: EventPredicate = (e) => e.source === 'web'
    expect(compileFilter(p)).toBe(p)
    expect(compileFilter(p)(ev({}))).toBe(true)
    expect(compileFilter(p)(ev({}, { source: 'x' }))).toBe(false)
  })
  it('keep their event type', () => {
    const p = compileFilter((e: BusEvent<'order.placed', { total: number }>) => e.data.total > 1)
    expect(p(ev({ total: 2 }) as BusEvent<'order.placed', { total: number }>)).toBe(true)
  })
})

describe('malformed filters are refused with INVALID_FILTER naming the path', () => {
  it.each([
    [null, 'filter: must be a filter object or a function, got null'],
    ['web', 'filter: must be a filter object or a function, got "web"'],
    [[{ source: ['web'] }], 'filter: must be a filter object or a function, got an array'],
    [{ source: [] }, 'filter source: must be a non-empty array of rules or a nested filter'],
    [
      { source: 'web' },
      'filter source: must be a non-empty array of rules or a nested filter, got "web"',
    ],
    [{ data: { n: 5 } }, 'filter data.n: must be a non-empty array'],
    [{ data: { a: { b: null } } }, 'filter data.a.b: must be a non-empty array'],
    [{ data: { sku: [{ prefx: 'a' }] } }, 'filter data.sku[0]: unknown rule operator "prefx"'],
    [
      { data: { sku: ['x', { prefix: 'a', suffix: 'b' }] } },
      'filter data.sku[1]: a rule object needs exactly one operator, got 2',
    ],
    [
      { data: { sku: [{}] } },
      'filter data.sku[0]: a rule object needs exactly one operator, got 0',
    ],
    [{ data: { sku: [['a']] } }, 'filter data.sku[0]: a rule must be'],
    [{ data: { n: [Number.NaN] } }, 'filter data.n[0]: a rule must be'],
    [
      { data: { sku: [{ prefix: 1 }] } },
      'filter data.sku[0]: prefix must be a string or { "equals-ignore-case": string }, got 1',
    ],
    [
      { data: { sku: [{ suffix: null }] } },
      'filter data.sku[0]: suffix must be a string or { "equals-ignore-case": string }, got null',
    ],
    [
      { data: { c: [{ 'equals-ignore-case': ['fr'] }] } },
      'filter data.c[0]: equals-ignore-case must be a string, got an array',
    ],
    [
      { data: { total: [{ numeric: ['>>', 1] }] } },
      'filter data.total[0]: numeric operator ">>" is not one of <, <=, =, >=, >',
    ],
    [
      { data: { total: [{ numeric: ['>', 1, '!=', 5] }] } },
      'filter data.total[0]: numeric operator "!=" is not one of',
    ],
    [
      { data: { total: [{ numeric: ['>', '1'] }] } },
      'filter data.total[0]: numeric operand "1" is not a finite number',
    ],
    [
      { data: { total: [{ numeric: ['<', Infinity] }] } },
      'filter data.total[0]: numeric operand Infinity is not a finite number',
    ],
    [{ data: { total: [{ numeric: ['>'] }] } }, 'filter data.total[0]: numeric needs 1 or 2 pairs'],
    [
      { data: { total: [{ numeric: ['>', 1, '<'] }] } },
      'filter data.total[0]: numeric needs 1 or 2 pairs',
    ],
    [
      { data: { total: [{ numeric: ['>', 1, '<', 5, '=', 3] }] } },
      'filter data.total[0]: numeric needs 1 or 2 pairs',
    ],
    [{ data: { total: [{ numeric: 5 }] } }, 'filter data.total[0]: numeric needs 1 or 2 pairs'],
    [{ coupon: [{ exists: 'no' }] }, 'filter coupon[0]: exists must be true or false, got "no"'],
    [
      { s: [{ 'anything-but': [] }] },
      'filter s[0]: anything-but needs a value or a non-empty list',
    ],
    [
      { s: [{ 'anything-but': [{ a: 1 }] }] },
      'filter s[0]: anything-but needs a value or a non-empty list',
    ],
    [
      { s: [{ 'anything-but': { equals: 'x' } }] },
      'filter s[0]: anything-but takes a value, a list of values, or one of { prefix }, { suffix }, { equals-ignore-case }, { wildcard }',
    ],
    [
      { s: [{ 'anything-but': { prefix: 3 } }] },
      'filter s[0]: anything-but prefix takes a string or a non-empty list of strings, got 3',
    ],
    [
      { $or: [] },
      'filter $or: $or must be an array of at least 2 filter objects (EventBridge refuses fewer), got an array',
    ],
    [
      { $or: { a: ['x'] } },
      'filter $or: $or must be an array of at least 2 filter objects (EventBridge refuses fewer), got an object',
    ],
    [{ $or: [{ a: ['x'] }, 'b'] }, 'filter $or[1]: must be a filter object, got "b"'],
    [
      { data: { $or: [{ a: [{ prefix: 1 }] }, { b: ['x'] }] } },
      'filter data.$or[0].a[0]: prefix must be a string',
    ],
  ])('%j', (filter, message) => {
    const [code, got] = refusal(filter)!
    expect(code).toBe('INVALID_FILTER')
    expect(got).toContain(message)
  })
})

describe('arrays, as EventBridge flattens them', () => {
  it('an array of arrays (any depth) matches when any leaf does', () => {
    const employees = [
      [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
      [{ firstName: 'Peter', lastName: 'Jones' }],
    ]
    expect(hit({ data: { employees: { firstName: ['Anna'] } } }, { employees })).toBe(true)
    expect(hit({ data: { employees: { firstName: ['Zoe'] } } }, { employees })).toBe(false)
    expect(hit({ data: { tags: ['vip'] } }, { tags: [['a', ['b', ['vip']]]] })).toBe(true)
    expect(hit({ data: { n: [{ numeric: ['>', 10] }] } }, { n: [[1], [[2, [30]]]] })).toBe(true)
  })
  it('two fields of a nested filter must match within one array element (array consistency)', () => {
    const employees = [
      [
        { firstName: 'John', lastName: 'Doe' },
        { firstName: 'Anna', lastName: 'Smith' },
      ],
      [{ firstName: 'Peter', lastName: 'Jones' }],
    ]
    expect(
      hit({ data: { employees: { firstName: ['Anna'], lastName: ['Smith'] } } }, { employees }),
    ).toBe(true)
    expect(
      hit({ data: { employees: { firstName: ['Anna'], lastName: ['Jones'] } } }, { employees }),
    ).toBe(false)
  })
  it('waitFor looks into arrays of arrays too', async () => {
    const bus = createBus()
    const filter: Filter = { data: { employees: { firstName: ['Anna'] } } }
    const waiting = bus.waitFor('team.updated', { filter, timeout: 10_000 })
    await bus.publish('team.updated', { employees: [[{ firstName: 'John' }]] })
    await bus.publish('team.updated', {
      employees: [[{ firstName: 'John' }, { firstName: 'Anna' }], [{ firstName: 'Peter' }]],
    })
    expect(((await waiting).data as { employees: unknown[][] }).employees).toHaveLength(2)
    await bus.close()
  })
})

describe('matching work is linear in the event times the filter', () => {
  it('reads each element of a wide array a bounded number of times', () => {
    let reads = 0
    const counted = (o: object) =>
      new Proxy(o, {
        get: (t, k, r) => {
          reads++
          return Reflect.get(t, k, r)
        },
        getOwnPropertyDescriptor: (t, k) => {
          reads++
          return Reflect.getOwnPropertyDescriptor(t, k)
        },
        getPrototypeOf: (t) => {
          reads++
          return Reflect.getPrototypeOf(t)
        },
      })
    const f = compileFilter({
      data: {
        items: { a: ['no', { prefix: 'n' }], b: [{ exists: false }, { numeric: ['>', 5] }] },
      },
    })
    for (const n of [100, 10_000]) {
      const items = Array.from({ length: n }, () => counted({ a: 'x', b: [[1]] }))
      reads = 0
      expect(f(ev({ items: [items] }))).toBe(false)
      // per element: a's descriptor and value, b's descriptor and value, and each one's record check
      expect(reads).toBeLessThanOrEqual(6 * n)
    }
  })
})

describe('exists looks at leaves (EventBridge: an object or an empty array is not a value)', () => {
  it('an object-valued field does not exist; an empty array does not either', () => {
    expect(hit({ data: { c: [{ exists: true }] } }, { c: { c1: 100 } })).toBe(false)
    expect(hit({ data: { c: [{ exists: false }] } }, { c: { c1: 100 } })).toBe(true)
    expect(hit({ data: { c: [{ exists: true }] } }, { c: [] })).toBe(false)
    expect(hit({ data: { c: [{ exists: false }] } }, { c: [] })).toBe(true)
    expect(hit({ data: { c: [{ exists: true }] } }, { c: [[null]] })).toBe(true)
  })
})

describe('wildcard', () => {
  const w = (pattern: string, value: unknown) =>
    hit({ data: { v: [{ wildcard: pattern }] } }, { v: value })
  it('* matches any run of characters, even none', () => {
    expect(w('*.png', 'a.png')).toBe(true)
    expect(w('*.png', '.png')).toBe(true)
    expect(w('*.png', 'a.png.txt')).toBe(false)
    expect(w('a*b*c', 'abc')).toBe(true)
    expect(w('a*b*c', 'a-b-b-c')).toBe(true)
    expect(w('a*b*c', 'acb')).toBe(false)
    expect(w('abc', 'abc')).toBe(true)
    expect(w('*', '')).toBe(true)
    expect(w('*', 5)).toBe(false)
  })
  it('\\* is a star and \\\\ a backslash', () => {
    expect(w('a\\*', 'a*')).toBe(true)
    expect(w('a\\*', 'ab')).toBe(false)
    expect(w('a\\\\*', 'a\\xyz')).toBe(true)
  })
  it('matches in one pass over the string: pieces between stars, each at its leftmost place', () => {
    const many = wildcardMatcher(parseWildcard('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b') as Token[])
    expect(many('a'.repeat(100_000))).toBe(false)
    expect(many('a'.repeat(100_000) + 'b')).toBe(true)
    expect(wildcardMatcher(parseWildcard('ab*ba') as Token[])('aba')).toBe(false)
    expect(wildcardMatcher(parseWildcard('ab*ba') as Token[])('abba')).toBe(true)
  })
  it('the ignore-case automaton never backtracks: steps are bounded by (string length + 1) × tokens', () => {
    const tokens = parseWildcard('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b') as Token[]
    const meter = { steps: 0 }
    const s = 'a'.repeat(5000)
    expect(matchTokens(tokens, s, meter)).toBe(false)
    expect(meter.steps).toBeLessThanOrEqual((s.length + 1) * tokens.length)
  })
  it.each([
    ['a**b', 'consecutive wildcard characters'],
    ['a\\b', 'invalid escape'],
    ['a\\', 'invalid escape'],
  ])('refuses %j', (pattern, why) => {
    expect(refusal({ data: { v: [{ wildcard: pattern }] } })).toEqual([
      'INVALID_FILTER',
      expect.stringContaining(why),
    ])
  })
})

describe('equals-ignore-case, and prefix/suffix with it', () => {
  it('equals-ignore-case compares each character with its lower and upper case', () => {
    const f = (r: string, v: unknown) => hit({ data: { v: [{ 'equals-ignore-case': r }] } }, { v })
    expect(f('Straße', 'STRAßE')).toBe(true)
    expect(f('Straße', 'STRASSE')).toBe(true) // ß upper-cases to SS, as in EventBridge
    expect(f('ÉTÉ', 'été')).toBe(true)
    expect(f('abc', 'abcd')).toBe(false)
  })
  it('prefix and suffix', () => {
    expect(
      hit({ data: { s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, { s: 'eventbridge' }),
    ).toBe(true)
    expect(
      hit({ data: { s: [{ prefix: { 'equals-ignore-case': 'EventB' } }] } }, { s: 'event' }),
    ).toBe(false)
    expect(
      hit({ data: { s: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] } }, { s: 'EVENTBRIDGE' }),
    ).toBe(true)
    expect(
      hit({ data: { s: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] } }, { s: 'bridge' }),
    ).toBe(false)
    expect(hit({ data: { s: [{ suffix: { 'equals-ignore-case': '1' } }] } }, { s: 1 })).toBe(false)
  })
  it('refuses other forms', () => {
    expect(refusal({ data: { s: [{ prefix: { 'equals-ignore-case': 1 } }] } })?.[0]).toBe(
      'INVALID_FILTER',
    )
    expect(refusal({ data: { s: [{ prefix: { wildcard: 'a' } }] } })?.[0]).toBe('INVALID_FILTER')
  })
})

describe('cidr', () => {
  const c = (block: string, ip: unknown) => hit({ data: { ip: [{ cidr: block }] } }, { ip })
  it('IPv4', () => {
    expect(c('10.0.0.0/24', '10.0.0.255')).toBe(true)
    expect(c('10.0.0.0/24', '10.0.1.0')).toBe(false)
    expect(c('10.0.0.0/8', '10.200.1.3')).toBe(true)
    expect(c('0.0.0.0/0', '8.8.8.8')).toBe(true)
    expect(c('10.0.0.1/32', '10.0.0.1')).toBe(true)
    expect(c('10.0.0.0/24', 'not an ip')).toBe(false)
    expect(c('10.0.0.0/24', '::ffff')).toBe(false)
    expect(c('10.0.0.0/24', 167772161)).toBe(false)
  })
  it('IPv6', () => {
    expect(c('2001:db8::/32', '2001:db8::ff00:42:8329')).toBe(true)
    expect(c('2001:db8::/32', '2001:db9::1')).toBe(false)
    expect(c('::1/128', '0:0:0:0:0:0:0:1')).toBe(true)
    expect(c('2400:6500:FF00::36FB:1F80/122', '2400:6500:ff00::36fb:1fbf')).toBe(true)
    expect(c('2400:6500:FF00::36FB:1F80/122', '2400:6500:ff00::36fb:1fc0')).toBe(false)
    expect(c('2001:db8::/32', '10.0.0.1')).toBe(false)
  })
  // Bad blocks from aws/event-ruler src/test/software/amazon/event/ruler/CIDRTest.java (SpotMalformedCIDRs)
  it.each([
    '192.168.0.1/33',
    'foo',
    'foo/bar/baz',
    '192.168.0.1/foo',
    '192.168.0.1/-3424',
    'snorkle/3',
    '10.10.10.10.10/3',
    '2.1.0.-1/3',
    '2400:6500:3:3:3:3:3:3:3:3FF00::36FB:1F80/122',
    '2400:6500:3:3:-5:3:3:3:3:3FF00::36FB:1F80/122',
    '2400:6500:3:3:3:3:FFFFFFFFFFF:3:3:3FF00::36FB:1F80/122',
    '2400:6500:FF00::36FB:1F80/222',
    '700.168.0.1/8',
  ])('refuses %j', (block) => {
    expect(refusal({ data: { ip: [{ cidr: block }] } })?.[0]).toBe('INVALID_FILTER')
  })
})

describe('anything-but forms', () => {
  const ab = (x: unknown, v: unknown) =>
    hit({ data: { v: [{ 'anything-but': x }] } } as Filter, { v })
  it('prefix, suffix, equals-ignore-case and wildcard, each with one value or a list', () => {
    expect(ab({ prefix: ['init', 'error'] }, 'initializing')).toBe(false)
    expect(ab({ prefix: ['init', 'error'] }, 'running')).toBe(true)
    expect(ab({ suffix: ['1234', '6789'] }, 'i-6789')).toBe(false)
    expect(ab({ 'equals-ignore-case': ['Stopped', 'OverLoaded'] }, 'STOPPED')).toBe(false)
    expect(ab({ 'equals-ignore-case': 'Stopped' }, 'running')).toBe(true)
    expect(ab({ wildcard: '*/bin/*.jar' }, '/usr/bin/x.jar')).toBe(false)
    expect(ab({ wildcard: ['*/bin/*.jar', '*/bin/*.class'] }, '/usr/lib/x.jar')).toBe(true)
  })
  it('a value that is not a string is not excluded by a string form (EventBridge compares JSON text)', () => {
    expect(ab({ prefix: 'foo' }, 33)).toBe(true)
    expect(ab({ wildcard: '*' + 'x' }, null)).toBe(true)
  })
  it.each([
    [{ prefix: '' }, 'anything-but prefix "" excludes every string'],
    [{ suffix: [''] }, 'anything-but suffix "" excludes every string'],
    [{ wildcard: '*' }, 'anything-but wildcard "*" excludes every string'],
    [{ wildcard: 'a**' }, 'consecutive wildcard'],
    [{ prefix: [] }, 'non-empty list of strings'],
    [{ 'equals-ignore-case': [1] }, 'non-empty list of strings'],
  ])('refuses %j', (x, why) => {
    expect(refusal({ data: { v: [{ 'anything-but': x }] } })).toEqual([
      'INVALID_FILTER',
      expect.stringContaining(why),
    ])
  })
})

describe('$and', () => {
  it('matches when every sub-filter does', () => {
    const f: Filter = {
      data: { $and: [{ n: [{ numeric: ['>', 1] }] }, { n: [{ numeric: ['<', 5] }] }] },
    }
    expect(hit(f, { n: 3 })).toBe(true)
    expect(hit(f, { n: 7 })).toBe(false)
    expect(refusal({ $and: [{ a: ['x'] }] })).toEqual([
      'INVALID_FILTER',
      expect.stringContaining('$and must be an array of at least 2 filter objects'),
    ])
  })
})

describe('filters that can never match, or cannot be read, are refused with INVALID_FILTER', () => {
  it.each([
    [
      { data: { n: [{ numeric: ['>', 30, '<', 1] }] } },
      'filter data.n[0]: numeric range is empty: > 30 and < 1',
    ],
    [{ data: { n: [{ numeric: ['>=', 5, '<=', 5] }] } }, 'numeric range is empty'],
    [
      { data: { n: [{ numeric: ['<', 5, '>', 1] }] } },
      'a numeric range starts with its lower bound',
    ],
    [{ data: { n: [{ numeric: ['>', 1, '=', 5] }] } }, 'a numeric range ends with its upper bound'],
    [
      { data: { n: [{ 'anything-but': { prefix: '' } }] } },
      'filter data.n[0]: anything-but prefix ""',
    ],
    [{ $or: [{ a: ['x'] }] }, 'filter $or: $or must be an array of at least 2'],
    [{ data: { a: [] } }, 'filter data.a: must be a non-empty array'],
    [{ data: {} }, 'filter data: is an empty object'],
  ])('%j', (filter, why) => {
    expect(refusal(filter)).toEqual(['INVALID_FILTER', expect.stringContaining(why)])
  })
  it('deeper than 32 levels, 10,000 levels, and cyclic', () => {
    const deep = (n: number) => {
      let f: Record<string, unknown> = { x: ['y'] }
      for (let i = 0; i < n; i++) f = { a: f }
      return f
    }
    expect(() => compileFilter(deep(32) as Filter)).not.toThrow()
    expect(refusal(deep(33))).toEqual([
      'INVALID_FILTER',
      expect.stringContaining('nests deeper than 32 levels'),
    ])
    expect(refusal(deep(10_000))?.[0]).toBe('INVALID_FILTER')
    const cyclic: Record<string, unknown> = { x: ['y'] }
    cyclic.self = cyclic
    expect(refusal(cyclic)).toEqual([
      'INVALID_FILTER',
      'filter self: is cyclic: it contains itself',
    ])
    const or: Record<string, unknown> = { x: ['y'] }
    or.$or = [or, { z: ['w'] }]
    expect(refusal(or)?.[0]).toBe('INVALID_FILTER')
  })
  it('Symbols, BigInts and functions as values', () => {
    expect(refusal({ a: [Symbol('x')] })?.[0]).toBe('INVALID_FILTER')
    expect(refusal({ a: [10n] })?.[0]).toBe('INVALID_FILTER')
    expect(refusal({ a: [() => true] })?.[0]).toBe('INVALID_FILTER')
    expect(refusal({ a: () => true })?.[0]).toBe('INVALID_FILTER')
    expect(refusal({ a: [{ numeric: ['>', 1n] }] })?.[0]).toBe('INVALID_FILTER')
  })
  it('a getter or Proxy trap that throws: its thrown value is the cause', () => {
    const boom = new Error('boom')
    const getter = {
      data: {
        get total() {
          throw boom
        },
      },
    }
    let caught: unknown
    try {
      compileFilter(getter as unknown as Filter)
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(TidingsError)
    expect((caught as TidingsError).code).toBe('INVALID_FILTER')
    expect((caught as TidingsError).message).toContain('filter data.total: reading it threw')
    expect((caught as Error).cause).toBe(boom)
    const trap = new Proxy(
      {},
      {
        ownKeys() {
          throw boom
        },
      },
    )
    try {
      compileFilter(trap as Filter)
    } catch (e) {
      caught = e
    }
    expect((caught as Error).cause).toBe(boom)
    const { proxy, revoke } = Proxy.revocable({}, {})
    revoke()
    expect(refusal({ data: proxy })?.[0]).toBe('INVALID_FILTER')
  })
  it('a Proxy array answering a length that is not a count is refused', () => {
    const lying = (length: unknown) =>
      new Proxy([{ a: ['x'] }, { b: ['y'] }], {
        get: (t, k) => (k === 'length' ? length : Reflect.get(t, k)),
      })
    expect(refusal({ $or: lying(Number.NaN) })).toEqual([
      'INVALID_FILTER',
      'filter $or: has an invalid length',
    ])
    expect(refusal({ a: lying(-1) })).toEqual(['INVALID_FILTER', 'filter a: has an invalid length'])
    expect(refusal({ a: lying('2') })?.[0]).toBe('INVALID_FILTER')
  })
  it('a sparse array with a huge length is refused without walking it', () => {
    const rules: unknown[] = []
    rules.length = 2 ** 32 - 1
    expect(refusal({ a: rules })).toEqual(['INVALID_FILTER', expect.stringContaining('too large')])
  })
})

// Cases ported from aws/event-ruler (commit 337e8d9): the file each comes from is named above it.
describe('event-ruler test cases', () => {
  const ruler = (rule: Filter, event: unknown) => compileFilter(rule)(event as BusEvent)
  // src/test/software/amazon/event/ruler/RulerTest.java: WHEN_WeTryToMatchExistsRules_THEN_TheyWork
  it('exists', () => {
    const rules: Filter[] = [
      { a: [{ exists: true }] },
      { b: [{ exists: false }] },
      { x: [{ exists: true }] },
      { x: [{ exists: false }] },
    ]
    const events = [{ a: 1 }, { b: 2 }, { x: 'X' }]
    const want = [
      [true, true, false, true],
      [false, false, false, true],
      [false, true, true, false],
    ]
    events.forEach((e, i) =>
      rules.forEach((r, j) => expect(ruler(r, e), `${i}/${j}`).toBe(want[i]![j])),
    )
  })
  // RulerTest.java: WHEN_WeTryAnythingButRules_THEN_Theywork (first three events)
  it('anything-but of every kind', () => {
    const rule: Filter = {
      a: [{ 'anything-but': ['dad0', 'dad1', 'dad2'] }],
      b: [{ 'anything-but': [111, 222, 333] }],
      c: [{ 'anything-but': 'zdd' }],
      d: [{ 'anything-but': 444 }],
      z: [{ numeric: ['>', 0, '<', 1] }],
      w: [{ 'anything-but': { prefix: 'zax' } }],
      n: [{ 'anything-but': { suffix: 'ing' } }],
      o: [{ 'anything-but': { 'equals-ignore-case': 'CamelCase' } }],
      p: [{ 'anything-but': { 'equals-ignore-case': ['CamelCase', 'AbC'] } }],
    }
    const base = {
      a: 'child1',
      b: '444',
      c: 'child1',
      d: 123,
      w: 'xaz',
      z: 0.001,
      n: 'nomatch',
      o: 'nomatch',
      p: 'nomatch',
    }
    expect(ruler(rule, base)).toBe(true)
    expect(ruler(rule, { ...base, a: 'dad789', b: 789, c: 'zdd' })).toBe(false)
    expect(ruler(rule, { ...base, a: 'dad789', b: 789, z: 1.01 })).toBe(false)
    expect(ruler(rule, { ...base, a: 'dad1', b: 345 })).toBe(false)
    expect(ruler(rule, { ...base, b: 111 })).toBe(false)
    expect(ruler(rule, { ...base, d: 444 })).toBe(false)
    expect(ruler(rule, { ...base, w: 'zaxonie' })).toBe(false)
    expect(ruler(rule, { ...base, n: 'matching' })).toBe(false)
    expect(ruler(rule, { ...base, o: 'camelcase' })).toBe(false)
    expect(ruler(rule, { ...base, p: 'abc' })).toBe(false)
  })
  // RulerTest.java: WHEN_WeTryEqualsIgnoreCaseRules_THEN_TheyWork
  it('equals-ignore-case', () => {
    const rule: Filter = {
      a: [{ 'equals-ignore-case': 'aBc' }],
      b: [{ 'equals-ignore-case': 'Def' }],
      c: [{ 'equals-ignore-case': 'xyZ' }],
    }
    expect(ruler(rule, { a: 'ABC', b: 'defx', c: 'xYz', d: 'rst' })).toBe(false)
    expect(ruler(rule, { a: 'ABC', c: 'xYz', d: 'rst' })).toBe(false)
    expect(ruler(rule, { a: 'ABC', b: 'xYz', c: 'def', d: 'rst' })).toBe(false)
    expect(ruler(rule, { a: 'ABC', b: 'def', c: 'xYz', d: 'rst' })).toBe(true)
  })
  // MachineTest.java: testWildcardMatching
  it('wildcard', () => {
    const w = (p: string, v: string) => ruler({ a: [{ wildcard: p }] }, { a: v })
    expect(w('*bc', 'bc')).toBe(true)
    expect(w('*bc', 'abc')).toBe(true)
    expect(w('d*f', 'dexef')).toBe(true)
    expect(w('d*ff', 'dexeff')).toBe(true)
    expect(w('xy*', 'xyzzz')).toBe(true)
    expect(w('12*4*', '12345')).toBe(true)
    expect(w('xy*', 'abc')).toBe(false)
    expect(w('*bc', 'xyz')).toBe(false)
    expect(w('xy*', 'abcxyz')).toBe(false)
    expect(w('d*f', 'ef')).toBe(false)
    expect(w('d*f', 'de')).toBe(false)
    expect(w('12*4*', '1235')).toBe(false)
  })
  // ACMachineTest.java: testAnythingButWildcard, testAnythingButPrefix, testAnythingButSuffix
  it('anything-but wildcard, prefix, suffix', () => {
    const ab = (x: object, v: string) => ruler({ a: [{ 'anything-but': x }] } as Filter, { a: v })
    expect(
      ['foo', 'foobar', 'barfoo', 'barfoobar', 'barfobarobar'].map((v) =>
        ab({ wildcard: '*foo*' }, v),
      ),
    ).toEqual([false, false, false, false, true])
    expect(['value$', 'notvalue', '$notvalue'].map((v) => ab({ prefix: '$' }, v))).toEqual([
      true,
      true,
      false,
    ])
    expect(['value$', 'notvalue', '$notvalue'].map((v) => ab({ suffix: '$' }, v))).toEqual([
      false,
      true,
      true,
    ])
  })
  // MachineTest.java: testIPAddressOfCIDRIsEqualToMaximumOfRange
  it('cidr', () => {
    const c = (block: string, ip: string) =>
      ruler({ sourceIPAddress: [{ cidr: block }] }, { sourceIPAddress: ip })
    expect(
      ['220.160.153.170', '220.160.153.171', '220.160.153.169', '220.160.153.172'].map((ip) =>
        c('220.160.153.171/31', ip),
      ),
    ).toEqual([true, true, false, false])
    expect(
      ['220.160.154.0', '220.160.154.255', '220.160.153.255', '220.160.155.0'].map((ip) =>
        c('220.160.154.255/24', ip),
      ),
    ).toEqual([true, true, false, false])
  })
  // src/test/resources/correctness-cases.json (array consistency; expected results as README's "JSON Array Matching" states)
  it.each([
    [{ d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1, b: 2 }] }, true],
    [{ d: { a: [{ exists: true }], b: [{ exists: true }] } }, { d: [{ a: 1 }, { b: 2 }] }, false],
    [
      { d: { a: [{ exists: true }], b: [{ exists: true }] } },
      { d: [{ a: 1 }, { b: 2 }, { a: 3, b: 4 }] },
      true,
    ],
    [
      { u: { t: { k: ['color'], v: ['blue'] } } },
      { u: [{ t: [{ k: 'color', v: 'blue' }] }] },
      true,
    ],
    [
      { u: { t: { k: ['color'], v: ['blue'] } } },
      { u: [{ t: [{ k: 'color' }, { v: 'blue' }] }] },
      false,
    ],
    [
      { d: { name: [{ exists: true }], info: { x: ['1'] } } },
      { d: [{ name: 'alice' }, { info: { x: '1' } }] },
      false,
    ],
    [{ d: { a: [{ exists: true }], b: [{ exists: false }] } }, { d: [{ a: 1 }] }, true],
    [{ d: { a: [{ exists: true }], b: [{ exists: false }] } }, { d: [{ a: 1, b: 2 }] }, false],
    [{ d: { a: [{ exists: true }] } }, { d: [] }, false],
    [
      { d: { name: [{ exists: true }], type: [{ exists: true }] } },
      { d: { name: [], type: 'x' } },
      false,
    ],
    [
      { i: { p: [{ numeric: ['>', 0, '<', 100] }], n: [{ exists: true }] } },
      {
        i: [
          { n: 'w', p: 50 },
          { n: 'g', p: 200 },
        ],
      },
      true,
    ],
    [
      { u: { s: [{ 'anything-but': 'banned' }], n: [{ exists: true }] } },
      {
        u: [
          { n: 'alice', s: 'banned' },
          { n: 'bob', s: 'active' },
        ],
      },
      true,
    ],
    [{ d: { tags: [{ anything_but: 0 }] } }, {}, 'refused'],
  ] as const)('%j on %j: %s', (rule, event, want) => {
    if (want === 'refused') expect(refusal(rule)?.[0]).toBe('INVALID_FILTER')
    else expect(ruler(rule as Filter, event)).toBe(want)
  })
})

describe('the Filter type', () => {
  it('accepts every operator and refuses malformed ones at compile time', () => {
    const every: Filter = {
      source: ['web', 5, true, null],
      data: {
        a: [
          { prefix: 'x' },
          { prefix: { 'equals-ignore-case': 'x' } },
          { suffix: 'y' },
          { suffix: { 'equals-ignore-case': 'y' } },
        ],
        b: [
          { 'equals-ignore-case': 'z' },
          { wildcard: 'a*b' },
          { cidr: '10.0.0.0/8' },
          { exists: false },
        ],
        c: [{ numeric: ['>', 0] }, { numeric: ['>=', 0, '<', 5] }],
        d: [
          { 'anything-but': 'x' },
          { 'anything-but': [1, 2] },
          { 'anything-but': { prefix: ['p', 'q'] } },
          { 'anything-but': { suffix: 's' } },
          { 'anything-but': { 'equals-ignore-case': 'E' } },
          { 'anything-but': { wildcard: ['*.tmp', '*.bak'] } },
        ],
        $or: [{ e: ['1'] }, { f: ['2'] }],
        $and: [{ g: ['3'] }, { h: { i: ['4'] } }],
      },
    }
    // (A reversed range type-checks: `$or` makes every key accept an array of filters, and
    // `{ numeric: [...] }` reads as one; compileFilter refuses it.)
    const reversed = { n: [{ numeric: ['<', 5, '>', 1] }] }
    // @ts-expect-error wildcard takes a string
    const notString: Filter = { n: [{ wildcard: 5 }] }
    expect(compileFilter(every)).toBeTypeOf('function')
    expect(refusal(reversed)?.[0]).toBe('INVALID_FILTER')
    expect(refusal(notString)?.[0]).toBe('INVALID_FILTER')
  })
})
