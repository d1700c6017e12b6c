// Property tests of the CloudEvents mapping (issue 12.10): fromCloudEvent(toCloudEvent(e)) gives e
// back for every storable payload (own __proto__ keys included), through JSON text as it travels;
// any object at all is read or refused with INVALID_PAYLOAD, never a raw throw; and what is read
// is a CloudEvent 1.0 allows.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fromCloudEvent, toCloudEvent, type IncomingEvent } from '../../src/cloudevent.js'
import type { BusEvent } from '../../src/event.js'
import { snapshot as copyPayload } from '../../src/payload.js'
import { storable, protoKeyed } from './_core-inputs.js'
import { runs, settle, SCALE } from './_oracle.js'

const TIME = 60_000 * SCALE
const counts = { roundTrips: 0, arbitrary: 0 }
const topic = fc
  .array(
    fc.oneof(
      fc.stringMatching(/^[\w-]{1,8}$/),
      fc.constantFrom('constructor', '__proto__', 'toString'),
    ),
    { minLength: 1, maxLength: 4 },
  )
  .map((s) => s.join('.'))
const text = fc.string({ minLength: 1, maxLength: 30 })

const event: fc.Arbitrary<BusEvent> = fc
  .record(
    {
      id: text,
      type: topic,
      source: text,
      time: fc.integer({ min: -62_135_596_800_000, max: 253_402_300_799_999 }),
      seq: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
      data: fc.oneof(
        storable,
        storable.map((inner) => protoKeyed(inner, { x: 1 })),
      ),
      key: text,
      correlationId: text,
      causationId: text,
      traceparent: text,
    },
    { requiredKeys: ['id', 'type', 'source', 'time', 'seq', 'data'] },
  )
  // What a bus stores: the payload's own copy (frozen, storable), never what the caller still holds.
  .map((e) => ({ ...e, data: copyPayload(e.data)[0] }))

describe('CloudEvents properties', () => {
  it(
    'fromCloudEvent(toCloudEvent(e)) gives e back, through JSON text',
    async () => {
      await fc.assert(
        fc.property(event, (e) => {
          counts.roundTrips++
          const ce = toCloudEvent(e)
          const back = fromCloudEvent(JSON.parse(JSON.stringify(ce))) as IncomingEvent
          expect(back).toEqual(e)
          if (e.data && typeof e.data === 'object' && Object.hasOwn(e.data, '__proto__')) {
            expect(Object.getPrototypeOf(back.data)).toBe(Object.prototype)
            expect(Object.getOwnPropertyDescriptor(back.data, '__proto__')?.value).toEqual(
              (e.data as Record<string, unknown>)['__proto__'],
            )
          }
        }),
        runs(1500),
      )
    },
    TIME,
  )

  it('sequence orders as a string exactly as seq orders as a number', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        (a, b) => {
          const [x, y] = [a, b].map(
            (seq) => toCloudEvent({ id: 'i', type: 't', source: 's', data: 1, seq }).sequence!,
          )
          expect(Math.sign(x! < y! ? -1 : x! > y! ? 1 : 0)).toBe(Math.sign(a - b))
        },
      ),
      runs(300),
    )
  })

  it(
    'reads any object as an event CloudEvents 1.0 allows, or refuses it with INVALID_PAYLOAD',
    async () => {
      const attribute = fc.oneof(
        fc.string(),
        fc.constant(''),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.jsonValue(),
      )
      const ce = fc.oneof(
        fc.anything({
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withNullPrototype: true,
          maxDepth: 2,
        }),
        fc
          .record(
            {
              specversion: fc.oneof(fc.constant('1.0'), attribute),
              id: fc.oneof(text, attribute),
              type: fc.oneof(topic, attribute),
              source: fc.oneof(text, attribute),
              time: fc.oneof(
                fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
                fc.constantFrom('2025-02-30T00:00:00Z', '2025-13-01T00:00:00Z'),
                attribute,
              ),
              sequence: fc.oneof(fc.nat().map(String), attribute),
              subject: attribute,
              dataschema: attribute,
              datacontenttype: fc.oneof(
                fc.constantFrom('application/json', 'application/superjson+json'),
                attribute,
              ),
              data: fc.oneof(
                fc.jsonValue(),
                fc.record({
                  json: fc.jsonValue(),
                  meta: fc.record({ values: fc.jsonValue(), v: fc.constant(1) }),
                }),
              ),
              partitionkey: attribute,
            },
            { requiredKeys: ['specversion', 'id', 'type', 'source'] },
          )
          .chain((c) =>
            fc
              .dictionary(fc.string({ maxLength: 22 }), attribute, { maxKeys: 3 })
              .map((ext) => ({ ...ext, ...c })),
          ),
      )
      await fc.assert(
        fc.asyncProperty(ce, async (c) => {
          counts.arbitrary++
          const r = await settle(() => fromCloudEvent(c))
          if (!r.ok) {
            expect(r.error.code).toBe('INVALID_PAYLOAD')
            return
          }
          const e = r.value as IncomingEvent
          const o = c as Record<string, unknown>
          expect(o.specversion).toBe('1.0')
          expect(e.source).not.toBe('')
          for (const a of ['subject', 'dataschema', 'datacontenttype']) expect(o[a]).not.toBe('')
          for (const [name, v] of Object.entries(o)) {
            if (
              v == null ||
              [
                'specversion',
                'id',
                'type',
                'source',
                'time',
                'sequence',
                'datacontenttype',
                'dataschema',
                'subject',
                'data',
                'data_base64',
                'partitionkey',
                'traceparent',
                'correlationid',
                'causationid',
              ].includes(name)
            )
              continue
            expect(name).toMatch(/^[a-z0-9]{1,20}$/)
            expect(
              typeof v === 'string' ||
                typeof v === 'boolean' ||
                (Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31),
            ).toBe(true)
          }
          if (e.time !== undefined) expect(Number.isFinite(e.time)).toBe(true)
        }),
        runs(2500),
      )
      console.info(
        `cloudevent properties: ${counts.roundTrips} round trips, ${counts.arbitrary} arbitrary objects`,
      )
    },
    TIME,
  )
})
