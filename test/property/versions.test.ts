// Property tests of event versions (issue 18): the `versions` option of createBus given arbitrary
// values, and publish given arbitrary versions and payloads over upcaster chains that may throw.
// Oracle: settle() (success or a documented code, never a TypeError), nothing written on refusal,
// and an accepted event is stored as sent and read back upcast to the current version.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import { value, weird, storable } from './_core-inputs.js'
import { onFreshBus } from './_core-bus.js'
import { runs, SCALE, settle } from './_oracle.js'

const TIME = 60_000 * SCALE

/** A chain of `current - 1` steps; each appends its version to a trail, or throws when told to. */
const chain = (current: number, throwsAt: number | undefined) => ({
  current,
  upcast: Object.fromEntries(
    Array.from({ length: current - 1 }, (_, i) => [
      i + 1,
      (data: { trail: number[] }) => {
        if (throwsAt === i + 1) throw new Error(`step ${i + 1}`)
        return { trail: [...data.trail, i + 1] }
      },
    ]),
  ),
})

describe('event versions with arbitrary input', () => {
  it(
    'createBus({ versions }) takes a well-formed option or refuses with INVALID_OPTIONS',
    async () => {
      const spec = fc.oneof(
        weird,
        fc.record(
          {
            current: fc.oneof(fc.integer({ min: -2, max: 5 }), weird),
            upcast: fc.oneof(
              weird,
              fc.dictionary(
                fc.oneof(
                  fc.constantFrom('1', '2', '3', '0', '__proto__'),
                  fc.string({ maxLength: 3 }),
                ),
                fc.oneof(
                  fc.constant((d: unknown) => d),
                  weird,
                ),
                { maxKeys: 4 },
              ),
            ),
          },
          { requiredKeys: [] },
        ),
      )
      const option = fc.oneof(
        weird,
        fc.dictionary(
          fc.oneof(
            fc.constantFrom('order.placed', 'constructor', '__proto__'),
            fc.string({ maxLength: 8 }),
          ),
          spec,
          { maxKeys: 3 },
        ),
      )
      await fc.assert(
        fc.asyncProperty(option, async (given) => {
          // The option is checked when its code has loaded, before the first publish is written.
          const outcome = await settle(() =>
            createBus({ versions: value(given) as never }).publish('order.placed', 1),
          )
          if (!outcome.ok) expect(outcome.error.code).toBe('INVALID_OPTIONS')
        }),
        runs(1500),
      )
    },
    TIME,
  )

  it(
    'publish at any version: stored as sent and read upcast, or refused with nothing written',
    async () => {
      const version = fc.oneof(fc.constant(undefined), fc.integer({ min: -1, max: 7 }), weird)
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 5 }),
          fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
          version,
          storable,
          async (current, throwsAt, given, extra) => {
            const versions = { 'order.placed': chain(current, throwsAt) }
            const data = { trail: [] as number[], extra }
            const run = await onFreshBus(
              ({ bus }) => bus.publish('order.placed', data, { version: value(given) } as never),
              { versions } as never,
            )
            const asked = given === undefined ? current : given
            if (run.outcome.ok) {
              expect(
                Number.isInteger(asked) && (asked as number) >= 1 && (asked as number) <= current,
              ).toBe(true)
              const raw = (await run.bus.read({ raw: true })).events[0]!
              expect(raw.version).toBe(asked)
              expect((raw.data as { trail: number[] }).trail).toEqual([])
              const seen = await run.bus.read().then(
                (r) => r.events[0]!,
                (e: unknown) => e,
              )
              // The read upcasts from the stored version; the publish already proved the chain passes.
              expect(seen).toMatchObject({
                version: current,
                data: {
                  trail: Array.from(
                    { length: current - (asked as number) },
                    (_, i) => (asked as number) + i,
                  ),
                },
              })
            } else {
              const valid =
                Number.isInteger(asked) && (asked as number) >= 1 && (asked as number) <= current
              expect(run.outcome.error.code).toBe(valid ? 'INVALID_PAYLOAD' : 'INVALID_OPTIONS')
              if (valid)
                expect(
                  throwsAt !== undefined && throwsAt >= (asked as number) && throwsAt < current,
                ).toBe(true)
            }
            await run.done()
          },
        ),
        runs(400),
      )
    },
    TIME,
  )
})
