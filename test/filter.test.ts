import { describe, expect, it } from 'vitest'
import { compileFilter, type EventPredicate, type Filter } from '../src/filter.js'
import { TidingsError } from '../src/errors.js'
import type { BusEvent } from '../src/event.js'

const ev = (data: unknown, over: Partial<BusEvent> = {}): BusEvent => ({
  id: 'e1', type: 'order.placed', source: 'web', time: 1, seq: 1, data, ...over,
})
/** Whether `filter` matches an event with payload `data`. */
const hit = (filter: Filter, data: unknown, over?: Partial<BusEvent>) => compileFilter(filter)(ev(data, over))
const refusal = (filter: unknown) => {
  try { compileFilter(filter as Filter) } catch (e) {
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
    const yes = { data: { coupon: [{ exists: true }] } }, no = { data: { coupon: [{ exists: false }] } }
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
    expect(hit({ data: { s: [{ 'anything-but': { prefix: 'tmp-' } }] } }, { s: 'tmp-1' })).toBe(false)
    expect(hit({ data: { s: [{ 'anything-but': { prefix: 'tmp-' } }] } }, { s: 'job-1' })).toBe(true)
    expect(hit({ data: { s: [{ 'anything-but': { suffix: '.tmp' } }] } }, { s: 'a.tmp' })).toBe(false)
    expect(hit({ data: { s: [{ 'anything-but': { suffix: '.tmp' } }] } }, { s: 'a.txt' })).toBe(true)
    expect(hit({ data: { s: [{ 'anything-but': { suffix: '.tmp' } }] } }, {})).toBe(false)
  })
  it('on an array matches when any element is not excluded (EventBridge)', () => {
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, { s: ['test', 'live'] })).toBe(true)
    expect(hit({ data: { s: [{ 'anything-but': 'test' }] } }, { s: ['test'] })).toBe(false)
  })
})

describe('numeric', () => {
  it('compares with each operator, boundaries included or not', () => {
    const at = (op: '<' | '<=' | '=' | '>=' | '>', n: number) => (v: unknown) => hit({ data: { n: [{ numeric: [op, n] }] } }, { n: v })
    expect([9, 10, 11].map(at('<', 10))).toEqual([true, false, false])
    expect([9, 10, 11].map(at('<=', 10))).toEqual([true, true, false])
    expect([9, 10, 11].map(at('=', 10))).toEqual([false, true, false])
    expect([9, 10, 11].map(at('>=', 10))).toEqual([false, true, true])
    expect([9, 10, 11].map(at('>', 10))).toEqual([false, false, true])
  })
  it('ranges with two pairs', () => {
    const f: Filter = { data: { total: [{ numeric: ['>=', 100, '<', 200] }] } }
    expect([99.99, 100, 150, 199.5, 200].map((total) => hit(f, { total }))).toEqual([false, true, true, true, false])
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
    expect(hit(g, { items: [{ sku: 'B', qty: 5 }, { sku: 'A', qty: 2 }] })).toBe(true)
    expect(hit(g, { items: [{ sku: 'B', qty: 5 }, { sku: 'A', qty: 1 }] })).toBe(false)
  })
  it('$or at the top level, ANDed with its siblings', () => {
    const f: Filter = { type: ['order.placed'], $or: [{ source: ['web'] }, { data: { vip: [true] } }] }
    expect(compileFilter(f)(ev({}, { source: 'web' }))).toBe(true)
    expect(compileFilter(f)(ev({ vip: true }, { source: 'pos' }))).toBe(true)
    expect(compileFilter(f)(ev({ vip: false }, { source: 'pos' }))).toBe(false)
    expect(compileFilter(f)(ev({ vip: true }, { type: 'order.paid' }))).toBe(false)
  })
  it('$or nested inside data', () => {
    const f: Filter = { data: { $or: [{ total: [{ numeric: ['>=', 100] }] }, { country: ['FR'], express: [true] }], status: ['new'] } }
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
    source: ['web'], data: {
      total: [{ numeric: ['>=', 100] }], country: ['FR', 'DE'],
      coupon: [{ exists: false }], sku: [{ prefix: 'AB-' }], status: [{ 'anything-but': ['test'] }],
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
    [{ source: 'web' }, 'filter source: must be a non-empty array of rules or a nested filter, got "web"'],
    [{ data: { n: 5 } }, 'filter data.n: must be a non-empty array'],
    [{ data: { a: { b: null } } }, 'filter data.a.b: must be a non-empty array'],
    [{ data: { sku: [{ prefx: 'a' }] } }, 'filter data.sku[0]: unknown rule operator "prefx"'],
    [{ data: { sku: ['x', { prefix: 'a', suffix: 'b' }] } }, 'filter data.sku[1]: a rule object needs exactly one operator, got 2'],
    [{ data: { sku: [{}] } }, 'filter data.sku[0]: a rule object needs exactly one operator, got 0'],
    [{ data: { sku: [['a']] } }, 'filter data.sku[0]: a rule must be'],
    [{ data: { n: [Number.NaN] } }, 'filter data.n[0]: a rule must be'],
    [{ data: { sku: [{ prefix: 1 }] } }, 'filter data.sku[0]: prefix must be a string or { "equals-ignore-case": string }, got 1'],
    [{ data: { sku: [{ suffix: null }] } }, 'filter data.sku[0]: suffix must be a string or { "equals-ignore-case": string }, got null'],
    [{ data: { c: [{ 'equals-ignore-case': ['fr'] }] } }, 'filter data.c[0]: equals-ignore-case must be a string, got an array'],
    [{ data: { total: [{ numeric: ['>>', 1] }] } }, 'filter data.total[0]: numeric operator ">>" is not one of <, <=, =, >=, >'],
    [{ data: { total: [{ numeric: ['>', 1, '!=', 5] }] } }, 'filter data.total[0]: numeric operator "!=" is not one of'],
    [{ data: { total: [{ numeric: ['>', '1'] }] } }, 'filter data.total[0]: numeric operand "1" is not a finite number'],
    [{ data: { total: [{ numeric: ['<', Infinity] }] } }, 'filter data.total[0]: numeric operand Infinity is not a finite number'],
    [{ data: { total: [{ numeric: ['>'] }] } }, 'filter data.total[0]: numeric needs 1 or 2 pairs'],
    [{ data: { total: [{ numeric: ['>', 1, '<'] }] } }, 'filter data.total[0]: numeric needs 1 or 2 pairs'],
    [{ data: { total: [{ numeric: ['>', 1, '<', 5, '=', 3] }] } }, 'filter data.total[0]: numeric needs 1 or 2 pairs'],
    [{ data: { total: [{ numeric: 5 }] } }, 'filter data.total[0]: numeric needs 1 or 2 pairs'],
    [{ coupon: [{ exists: 'no' }] }, 'filter coupon[0]: exists must be true or false, got "no"'],
    [{ s: [{ 'anything-but': [] }] }, 'filter s[0]: anything-but needs a value or a non-empty list'],
    [{ s: [{ 'anything-but': [{ a: 1 }] }] }, 'filter s[0]: anything-but needs a value or a non-empty list'],
    [{ s: [{ 'anything-but': { equals: 'x' } }] }, 'filter s[0]: anything-but takes a value, a list of values, or one of { prefix }, { suffix }, { equals-ignore-case }, { wildcard }'],
    [{ s: [{ 'anything-but': { prefix: 3 } }] }, 'filter s[0]: anything-but prefix takes a string or a non-empty list of strings, got 3'],
    [{ $or: [] }, 'filter $or: $or must be an array of at least 2 filter objects (EventBridge refuses fewer), got an array'],
    [{ $or: { a: ['x'] } }, 'filter $or: $or must be an array of at least 2 filter objects (EventBridge refuses fewer), got an object'],
    [{ $or: [{ a: ['x'] }, 'b'] }, 'filter $or[1]: must be a filter object, got "b"'],
    [{ data: { $or: [{ a: [{ prefix: 1 }] }, { b: ['x'] }] } }, 'filter data.$or[0].a[0]: prefix must be a string'],
  ])('%j', (filter, message) => {
    const [code, got] = refusal(filter)!
    expect(code).toBe('INVALID_FILTER')
    expect(got).toContain(message)
  })
})
