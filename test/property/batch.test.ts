// Property tests of batch subscriptions' options (issue 18): `batch` given arbitrary values, whole
// and per field. Oracle: settle() (success or a documented code), nothing written on refusal, and
// the refusal is exactly the documented rule: size an integer 1..1000, wait finite and >= 0.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MAX_BATCH_SIZE } from '../../src/subscriptions/batch.js'
import { Made, value, weird } from './_core-inputs.js'
import { onFreshBus } from './_core-bus.js'
import { runs, SCALE } from './_oracle.js'

const size = fc.oneof(
  fc.integer({ min: -3, max: MAX_BATCH_SIZE + 3 }),
  fc.double(),
  fc.constantFrom(NaN, Infinity, -0, 0.5, '10', null, 2 ** 53),
  weird,
)
const wait = fc.oneof(
  fc.nat(100_000),
  fc.double(),
  fc.constantFrom(-1, NaN, Infinity, -Infinity, '5', null),
  weird,
)
const batch = fc.oneof(
  weird,
  fc.record({ size, wait }, { requiredKeys: [] }),
  fc.record({ size: fc.integer({ min: 1, max: 10 }), max: fc.nat() }),
)

/** Whether the documented rule accepts `given` (a plain object, before any Proxy or getter). */
const acceptable = (given: unknown): boolean => {
  if (!given || typeof given !== 'object' || Object.getPrototypeOf(given) !== Object.prototype)
    return false
  const { size: s, wait: w, ...rest } = given as Record<string, unknown>
  if (Object.keys(rest).length) return false
  const sizeOk = typeof s === 'number' && Number.isInteger(s) && s >= 1 && s <= MAX_BATCH_SIZE
  const waitOk = w === undefined || (typeof w === 'number' && Number.isFinite(w) && w >= 0)
  return sizeOk && waitOk
}

describe('batch subscription options', () => {
  it(
    'are accepted exactly when size is an integer 1..1000 and wait finite >= 0; refused with INVALID_OPTIONS before anything is written',
    async () => {
      await fc.assert(
        fc.asyncProperty(
          batch,
          fc.oneof(fc.constant(undefined), fc.nat(4)),
          async (generated, concurrency) => {
            const given =
              generated instanceof Made
                ? value(generated)
                : Object.fromEntries(
                    Object.entries(generated as Record<string, unknown>).map(([key, field]) => [
                      key,
                      value(field),
                    ]),
                  )
            const plain =
              !(generated instanceof Made) &&
              Object.values(generated as Record<string, unknown>).every(
                (field) =>
                  !(field instanceof Made) ||
                  typeof value(field) !== 'object' ||
                  value(field) === null,
              )
            const run = await onFreshBus(async ({ bus }) => {
              const subscription = await bus.subscribe('s', '**', () => {}, {
                batch: given as never,
                ...(concurrency === undefined ? {} : { concurrency }),
              })
              await subscription.close()
            })
            await run.done()
            const expectOk = plain && acceptable(given) && concurrency !== 0
            if (run.outcome.ok) expect(expectOk).toBe(true)
            else {
              expect(run.outcome.error.code).toBe('INVALID_OPTIONS')
              if (plain && concurrency !== 0) expect(acceptable(given)).toBe(false)
            }
          },
        ),
        runs(400),
      )
    },
    60_000 * SCALE,
  )

  it('name the rule they break', async () => {
    const refusals: [unknown, RegExp][] = [
      [{ size: 0 }, /batch.size must be an integer from 1 to 1000, got 0/],
      [{ size: 1001 }, /got 1001/],
      [{ size: 2.5 }, /got 2.5/],
      [{ size: 10, wait: -1 }, /batch.wait must be a finite number of ms, 0 or more, got -1/],
      [{ size: 10, wait: Infinity }, /got Infinity/],
      [{ size: 10, max: 5 }, /batch takes size and wait, not "max"/],
      [10, /batch must be \{ size, wait\? \}/],
      [null, /batch must be/],
    ]
    for (const [given, message] of refusals) {
      const run = await onFreshBus(({ bus }) =>
        bus.subscribe('s', '**', () => {}, { batch: given as never }),
      )
      await run.done()
      expect(run.outcome.ok).toBe(false)
      if (!run.outcome.ok) expect(run.outcome.error.message).toMatch(message)
    }
  })
})
