// Property test of own event ids (issue 16): ownId keeps the digits that change once in 36 ids, so
// its ids must still be the prefix and the zero-padded base-36 counter, whatever order buses (with
// different prefixes) ask in, past the 7-digit width included.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ownId } from '../../src/event.js'
import { runs } from './_oracle.js'

const expected = (prefix: string, n: number) => prefix + n.toString(36).padStart(7, '0')

describe('ownId', () => {
  it('is the prefix and the 7-digit base-36 counter, for interleaved prefixes and counters', () => {
    const counter = fc.oneof(
      fc.nat(5000),
      fc.nat(),
      fc.integer({ min: 36 ** 7 - 100, max: 36 ** 7 + 100 }),
      fc.maxSafeNat(),
    )
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('0mwrnc4clabcdef', '0mwrnc4clzyxwvu'), counter), {
          minLength: 1,
          maxLength: 50,
        }),
        (calls) => {
          for (const [prefix, n] of calls) expect(ownId(prefix, n)).toBe(expected(prefix, n))
        },
      ),
      runs(300),
    )
  })

  it('counts up across a change of the kept digits', () => {
    const ids = Array.from({ length: 80 }, (_, i) => ownId('p', 1290 + i))
    expect(ids).toEqual(Array.from({ length: 80 }, (_, i) => expected('p', 1290 + i)))
    expect([...ids].sort()).toEqual(ids)
  })
})
