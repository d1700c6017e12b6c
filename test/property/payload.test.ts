// Property tests of publish's payload copy (issue 16): `copyPayload`, which reads text char by char
// only when that decides the limit, refuses exactly what the exact `snapshot` refuses, with the
// same size when it refuses and never less than the exact size when it accepts. Text of every
// width (ASCII, 2- and 3-byte characters, surrogate pairs, lone surrogates) near the limit makes
// the lazy count decide at the edge.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { copiedBytes, copyPayload, snapshot } from '../../src/payload.js'
import { storable } from './_core-inputs.js'
import { runs, SCALE } from './_oracle.js'

const TIME = 60_000 * SCALE
const wide = fc.string({ unit: 'binary', maxLength: 40 })
const payload = fc.oneof(
  storable,
  fc.array(wide, { maxLength: 8 }),
  fc.dictionary(wide, wide, { maxKeys: 6 }),
)

describe('copyPayload', () => {
  it(
    'refuses what the exact snapshot refuses, and only that, at every limit',
    () => {
      fc.assert(
        fc.property(payload, fc.nat(400), (data, slackLimit) => {
          const [, exact] = snapshot(data)
          // Limits around the exact size, where reading the text decides.
          for (const limit of [exact - 1, exact, exact + 1, slackLimit, exact * 3]) {
            const [exactCopy, exactBytes] = snapshot(data, limit)
            const refusedExactly = exactBytes > limit
            const copy = copyPayload(data, limit)
            const bytes = copiedBytes()
            expect(bytes > limit, `limit ${limit}`).toBe(refusedExactly)
            if (refusedExactly) {
              expect(copy).toBeUndefined()
              expect(bytes).toBe(exactBytes)
            } else {
              expect(bytes).toBeGreaterThanOrEqual(exact)
              expect(copy).toEqual(exactCopy)
            }
          }
        }),
        runs(600),
      )
    },
    TIME,
  )

  it('sizes multi-byte text exactly at the limit', () => {
    // '€' is 3 bytes in UTF-8, an emoji (a surrogate pair) 4: 2 + 3 + 4 = 9 with the quotes.
    expect(snapshot('€😀')[1]).toBe(9)
    expect(copyPayload('€😀', 9)).toBe('€😀')
    expect(copyPayload('€😀', 8)).toBeUndefined()
    expect(copiedBytes()).toBe(9)
    expect(copyPayload({ k: 'x'.repeat(30) }, 40)).toEqual({ k: 'x'.repeat(30) })
    expect(copyPayload({ k: 'é'.repeat(30) }, 40)).toBeUndefined()
  })
})
