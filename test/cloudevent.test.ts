import { describe, expect, it } from 'vitest'
import superjson from 'superjson'
import {
  fromCloudEvent,
  toCloudEvent,
  type CloudEvent,
  type IncomingEvent,
} from '../src/cloudevent.js'
import { TidingsError } from '../src/errors.js'
import type { BusEvent } from '../src/event.js'

const wire = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T
const event = (over: Partial<BusEvent> = {}): BusEvent => ({
  id: 'e1',
  type: 'order.placed',
  source: 'shop',
  time: Date.UTC(2025, 0, 2, 3, 4, 5, 678),
  seq: 42,
  data: { total: 3 },
  ...over,
})
const full = event({
  key: 'cust-7',
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  correlationId: 'c1',
  causationId: 'x9',
})
const refused = (ce: unknown): [string, string] => {
  try {
    fromCloudEvent(ce)
  } catch (e) {
    return [(e as TidingsError).code, (e as Error).message]
  }
  throw new Error('not refused')
}

// Values JSON would change, each alone and nested together.
const unsafe: [string, unknown][] = [
  ['undefined', undefined],
  ['bigint', 12345678901234567890n],
  ['Date', new Date(Date.UTC(2024, 1, 29, 12))],
  ['RegExp', /a\.b\/c/gi],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['-0', -0],
  ['Set', new Set([1, 'a', new Date(0), undefined])],
  [
    'Map',
    new Map<unknown, unknown>([
      [new Date(1), { deep: [undefined, NaN] }],
      ['k', new Set([2n])],
      [3, 'plain'],
    ]),
  ],
  ['empty Map and Set', { m: new Map(), s: new Set() }],
  [
    'keys with dots and backslashes',
    { 'a.b': { 'c\\d': new Date(2), 'e\\.f': 1n }, '': undefined },
  ],
  [
    'everything nested',
    {
      order: {
        at: new Date(3),
        lines: [
          { sku: 'x', qty: 1n, note: undefined },
          { sku: 'y', price: -0, ratio: NaN },
        ],
      },
      seen: new Set([new Map([['inner', new Date(4)]])]),
      limits: [Infinity, -Infinity, 0, 1.5],
      re: /x+/m,
    },
  ],
]

describe('toCloudEvent', () => {
  it('maps every field to its CloudEvents attribute', () => {
    expect(toCloudEvent(full)).toStrictEqual({
      specversion: '1.0',
      id: 'e1',
      type: 'order.placed',
      source: 'shop',
      time: '2025-01-02T03:04:05.678Z',
      sequence: '0000000000000042',
      partitionkey: 'cust-7',
      traceparent: full.traceparent,
      correlationid: 'c1',
      causationid: 'x9',
      datacontenttype: 'application/json',
      data: { total: 3 },
    })
  })

  it('leaves out the attributes the event does not have', () => {
    const ce = toCloudEvent(event())
    expect(Object.keys(ce).sort()).toEqual([
      'data',
      'datacontenttype',
      'id',
      'sequence',
      'source',
      'specversion',
      'time',
      'type',
    ])
    expect(toCloudEvent({ id: 'a', type: 't', source: 's', data: 1 })).toStrictEqual({
      specversion: '1.0',
      id: 'a',
      type: 't',
      source: 's',
      datacontenttype: 'application/json',
      data: 1,
    })
  })

  it('sends JSON-safe data as is', () => {
    const data = { s: 'x', n: 1.5, b: false, z: null, a: [1, [2, { c: 'd' }]], o: {} }
    const ce = toCloudEvent(event({ data }))
    expect(ce.data).toBe(data)
    expect(ce.datacontenttype).toBe('application/json')
    expect(toCloudEvent(event({ data: null })).data).toBeNull()
  })

  it.each(unsafe)('sends %s as superjson, byte for byte what superjson writes', (_, data) => {
    const ce = toCloudEvent(event({ data }))
    if (data === undefined) {
      expect('data' in ce || 'datacontenttype' in ce).toBe(false)
      return
    }
    expect(ce.datacontenttype).toBe('application/superjson+json')
    expect(ce.data).toStrictEqual(superjson.serialize(data))
    expect(JSON.stringify(ce.data)).toBe(superjson.stringify(data))
    expect(superjson.deserialize(wire(ce.data) as never)).toStrictEqual(data)
  })

  it('cuts a cycle to null as superjson does, instead of recursing forever', () => {
    const data: Record<string, unknown> = { at: new Date(0) }
    data['self'] = data
    expect(toCloudEvent(event({ data })).data).toStrictEqual({
      json: { at: '1970-01-01T00:00:00.000Z', self: null },
      meta: { values: { at: ['Date'] }, v: 1 },
    })
    expect((superjson.serialize(data) as { json: unknown }).json).toStrictEqual({
      at: '1970-01-01T00:00:00.000Z',
      self: null,
    })
  })

  it('annotates undefined and special numbers inside otherwise JSON data', () => {
    expect(toCloudEvent(event({ data: { a: 1, b: undefined, c: [-0] } })).data).toStrictEqual({
      json: { a: 1, b: null, c: ['-0'] },
      meta: { values: { b: ['undefined'], 'c.0': ['number'] }, v: 1 },
    })
  })
})

describe('fromCloudEvent', () => {
  it('maps every attribute back to its field', () => {
    expect(
      fromCloudEvent({
        specversion: '1.0',
        id: 'e1',
        type: 'order.placed',
        source: 'shop',
        time: '2025-01-02T03:04:05.678Z',
        sequence: '42',
        partitionkey: 'k',
        traceparent: 'tp',
        correlationid: 'c',
        causationid: 'x',
        datacontenttype: 'application/json',
        data: { total: 3 },
      }),
    ).toStrictEqual({
      id: 'e1',
      type: 'order.placed',
      source: 'shop',
      time: full.time,
      seq: 42,
      key: 'k',
      traceparent: 'tp',
      correlationId: 'c',
      causationId: 'x',
      data: { total: 3 },
    })
  })

  it('reads a foreign CloudEvent without sequence or time, dropping unknown extensions', () => {
    const e = fromCloudEvent({
      specversion: '1.0',
      id: 'gh-1',
      type: 'com.github.push',
      source: 'https://github.com/x/y',
      subject: 'main',
      someext: 7,
      data: { ref: 'main' },
    })
    expect(e).toStrictEqual({
      id: 'gh-1',
      type: 'com.github.push',
      source: 'https://github.com/x/y',
      data: { ref: 'main' },
    })
    expect('seq' in e || 'time' in e || 'key' in e).toBe(false)
  })

  it('treats null optional attributes as absent and a missing data as undefined', () => {
    const e = fromCloudEvent({
      specversion: '1.0',
      id: 'a',
      type: 't',
      source: 's',
      time: null,
      sequence: null,
      partitionkey: null,
    })
    expect(e).toStrictEqual({ id: 'a', type: 't', source: 's', data: undefined })
    expect(Object.keys(e).sort()).toEqual(['data', 'id', 'source', 'type'])
  })

  it('keeps data of other content types as is', () => {
    expect(
      fromCloudEvent({
        specversion: '1.0',
        id: 'a',
        type: 't',
        source: 's',
        datacontenttype: 'text/plain',
        data: 'hi',
      }).data,
    ).toBe('hi')
    // A superjson-looking object is only decoded when the content type says so.
    const data = { json: 1, meta: { values: ['bigint'], v: 1 } }
    expect(fromCloudEvent({ specversion: '1.0', id: 'a', type: 't', source: 's', data }).data).toBe(
      data,
    )
  })

  it('reads times with offsets, lower case and more than millisecond precision', () => {
    const at = (time: string) =>
      fromCloudEvent({ specversion: '1.0', id: 'a', type: 't', source: 's', time }).time
    expect(at('2025-01-02T05:04:05.678+02:00')).toBe(full.time)
    expect(at('2025-01-02t03:04:05.678123z')).toBe(full.time)
    expect(at('2025-01-02T03:04:05Z')).toBe(full.time - 678)
  })

  it('accepts sequences up to the largest safe integer, zero-padded ones included', () => {
    const seq = (sequence: string) =>
      fromCloudEvent({ specversion: '1.0', id: 'a', type: 't', source: 's', sequence }).seq
    expect(seq('0')).toBe(0)
    expect(seq('000123')).toBe(123)
    expect(seq(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER)
  })

  it.each(unsafe.filter(([, v]) => v !== undefined))(
    'decodes %s written by the real superjson',
    (_, x) => {
      const ce = {
        specversion: '1.0',
        id: 'a',
        type: 't',
        source: 's',
        datacontenttype: 'application/superjson+json',
        data: superjson.serialize(x),
      }
      expect(fromCloudEvent(ce).data).toStrictEqual(x)
      expect(fromCloudEvent(wire(ce)).data).toStrictEqual(x)
    },
  )

  it('decodes superjson data regardless of media type case and parameters', () => {
    const ce = {
      specversion: '1.0',
      id: 'a',
      type: 't',
      source: 's',
      datacontenttype: 'Application/SuperJSON+json; charset=utf-8',
      data: superjson.serialize({ n: 1n }),
    }
    expect(fromCloudEvent(ce).data).toStrictEqual({ n: 1n })
  })

  it('decodes superjson with no meta and pre-v1 (unescaped) paths', () => {
    const ce = (data: unknown) => ({
      specversion: '1.0',
      id: 'a',
      type: 't',
      source: 's',
      datacontenttype: 'application/superjson+json',
      data,
    })
    expect(fromCloudEvent(ce({ json: { a: [1] } })).data).toStrictEqual({ a: [1] })
    expect(
      fromCloudEvent(
        ce({ json: { 'a.b': { 'c\\d': '1' } }, meta: { values: { 'a\\.b.c\\d': ['bigint'] } } }),
      ).data,
    ).toStrictEqual({ 'a.b': { 'c\\d': 1n } })
  })

  it('leaves the CloudEvent it reads untouched', () => {
    const ce = wire(
      toCloudEvent(event({ data: { at: new Date(0), m: new Map([[1, new Set([2n])]]) } })),
    )
    const before = structuredClone(ce)
    fromCloudEvent(ce)
    expect(ce).toStrictEqual(before)
  })

  it('follows only own properties, so annotations cannot reach a prototype', () => {
    const base = {
      specversion: '1.0',
      id: 'a',
      type: 't',
      source: 's',
      datacontenttype: 'application/superjson+json',
    }
    for (const path of ['__proto__.polluted', 'constructor.prototype.polluted', 'toString']) {
      const [c, message] = refused(
        wire({ ...base, data: { json: {}, meta: { values: { [path]: ['Date'] }, v: 1 } } }),
      )
      expect(c).toBe('INVALID_PAYLOAD')
      expect(message).toContain('"data"')
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined()
    // A real own "__proto__" key (as JSON.parse makes) is data like any other, both ways.
    const data = JSON.parse('{"__proto__": {"at": 0}}') as Record<string, { at: unknown }>
    data['__proto__']!.at = new Date(0)
    const back = fromCloudEvent(wire(toCloudEvent(event({ data })))).data as object
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')?.value).toStrictEqual({
      at: new Date(0),
    })
  })
})

describe('round trips', () => {
  it('restores an event with every field, through JSON', () => {
    expect(fromCloudEvent(toCloudEvent(full))).toStrictEqual(full)
    expect(fromCloudEvent(wire(toCloudEvent(full)))).toStrictEqual(full)
  })

  it.each(unsafe)('restores %s data exactly, through JSON', (_, data) => {
    const e = event({ data })
    const back = fromCloudEvent(wire(toCloudEvent(e)))
    expect(back).toStrictEqual(e)
    expect('data' in back).toBe(true)
  })

  it('keeps -0 and NaN distinct from 0 and null', () => {
    const back = fromCloudEvent(wire(toCloudEvent(event({ data: { z: [-0, 0], n: NaN } }))))
      .data as { z: number[]; n: number }
    expect(Object.is(back.z[0], -0)).toBe(true)
    expect(Object.is(back.z[1], 0)).toBe(true)
    expect(back.n).toBeNaN()
  })

  it('reproduces a CloudEvent this module wrote', () => {
    for (const e of [full, ...unsafe.map(([, data]) => event({ data }))]) {
      const ce = wire(toCloudEvent(e))
      expect(toCloudEvent(fromCloudEvent(ce))).toStrictEqual(ce)
    }
  })

  it('restores an event that has no seq or time yet', () => {
    const incoming: IncomingEvent = {
      id: 'a',
      type: 't.u',
      source: 's',
      data: [new Date(0)],
      key: 'k',
    }
    const ce: CloudEvent = toCloudEvent(incoming)
    expect('time' in ce || 'sequence' in ce).toBe(false)
    expect(fromCloudEvent(wire(ce))).toStrictEqual(incoming)
  })
})

describe('validation', () => {
  const good = wire(toCloudEvent(full))
  it.each([
    ['specversion', { specversion: '0.3' }],
    ['specversion', { specversion: undefined }],
    ['id', { id: '' }],
    ['id', { id: 5 }],
    ['type', { type: 'order..placed' }],
    ['type', { type: 'order.*' }],
    ['type', { type: undefined }],
    ['source', { source: undefined }],
    ['source', { source: 1 }],
    // What CloudEvents 1.0 forbids (issue 12.10): empty strings, extension values of no CloudEvents
    // type (not an integer, outside int32, an object), extension names outside [a-z0-9]{1,20}.
    ['source', { source: '' }],
    ['subject', { subject: '' }],
    ['dataschema', { dataschema: '' }],
    ['datacontenttype', { datacontenttype: '' }],
    ['ext', { ext: 42.42 }],
    ['ext', { ext: 4247483647 }],
    ['ext', { ext: { a: 1 } }],
    ['', { '': 'x' }],
    ['Bad_Name', { Bad_Name: 'x' }],
    ['abcdefghijklmnopqrstu', { abcdefghijklmnopqrstu: 'x' }],
    [
      'data',
      {
        datacontenttype: 'application/superjson+json',
        data: { json: { d: 'not a date' }, meta: { values: { d: ['Date'] }, v: 1 } },
      },
    ],
    ['time', { time: 'yesterday' }],
    ['time', { time: '2025-01-02 03:04:05Z' }],
    ['time', { time: '2025-13-02T03:04:05Z' }],
    ['time', { time: 1735787045678 }],
    ['sequence', { sequence: 42 }],
    ['sequence', { sequence: '-1' }],
    ['sequence', { sequence: '1.5' }],
    ['sequence', { sequence: '9007199254740992' }],
    ['partitionkey', { partitionkey: 7 }],
    ['correlationid', { correlationid: {} }],
    ['datacontenttype', { datacontenttype: 1 }],
    ['data_base64', { data_base64: 'aGk=' }],
    ['data', { datacontenttype: 'application/superjson+json', data: 'x' }],
    [
      'data',
      {
        datacontenttype: 'application/superjson+json',
        data: { json: 1, meta: { values: ['symbol'], v: 1 } },
      },
    ],
    [
      'data',
      {
        datacontenttype: 'application/superjson+json',
        data: { json: 'x', meta: { values: ['bigint'], v: 1 } },
      },
    ],
    [
      'data',
      {
        datacontenttype: 'application/superjson+json',
        data: { json: 1, meta: { values: ['set'], v: 1 } },
      },
    ],
    [
      'data',
      {
        datacontenttype: 'application/superjson+json',
        data: { json: {}, meta: { values: { 'a.b': ['Date'] }, v: 1 } },
      },
    ],
    [
      'data',
      {
        datacontenttype: 'application/superjson+json',
        data: { json: { a: 1 }, meta: { values: { 'a\\x': ['Date'] }, v: 1 } },
      },
    ],
  ])('refuses a bad %s with INVALID_PAYLOAD naming it (%j)', (attribute, change) => {
    const [c, message] = refused({ ...good, ...change })
    expect(c).toBe('INVALID_PAYLOAD')
    expect(message).toContain(`"${attribute}"`)
  })

  it('accepts extensions of CloudEvents types: 32-bit integers, booleans, strings', () => {
    expect(() =>
      fromCloudEvent({ ...good, min: -(2 ** 31), max: 2 ** 31 - 1, flag: true, s: 'x', n: null }),
    ).not.toThrow()
  })

  it('zero-pads sequence so it orders as a string, and reads it back', () => {
    const seqs = [9, 10, 100, 2 ** 53 - 1].map((seq) => toCloudEvent({ ...full, seq }).sequence!)
    expect([...seqs].sort()).toEqual(seqs)
    expect(seqs.map((sequence) => fromCloudEvent({ ...good, sequence }).seq)).toEqual([
      9,
      10,
      100,
      2 ** 53 - 1,
    ])
  })

  it("keeps a superjson payload's own __proto__ key as data, never as the prototype", () => {
    const data: unknown = JSON.parse(
      '{ "json": { "__proto__": [1], "x": 1 }, "meta": { "values": { "__proto__": ["set"] }, "v": 1 } }',
    )
    const e = fromCloudEvent({ ...good, datacontenttype: 'application/superjson+json', data })
    const d = e.data as Record<string, unknown>
    expect(Object.getPrototypeOf(d)).toBe(Object.prototype)
    expect(Object.hasOwn(d, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(d, '__proto__')!.value).toEqual(new Set([1]))
  })

  it('round-trips data whose own __proto__ key holds a Set (annotated, not lost)', () => {
    const data = Object.defineProperty({ x: 1 }, '__proto__', {
      value: new Set([1n]),
      enumerable: true,
    })
    const back = fromCloudEvent(JSON.parse(JSON.stringify(toCloudEvent({ ...full, data }))))
      .data as object
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype)
    expect(Object.getOwnPropertyDescriptor(back, '__proto__')!.value).toEqual(new Set([1n]))
  })

  it.each([null, 'str', 42, [good]])('refuses %j, which is not an object', (ce) => {
    const [c, message] = refused(ce)
    expect(c).toBe('INVALID_PAYLOAD')
    expect(message).toMatch(/must be a JSON object/)
  })

  it('throws TidingsError, explaining why a type is not a topic', () => {
    expect(() => fromCloudEvent({ ...good, type: 'order..placed' })).toThrow(TidingsError)
    expect(refused({ ...good, type: 'order..placed' })[1]).toContain('segment 2 ("") is empty')
  })
})
