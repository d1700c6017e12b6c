import { describe, expect, it } from 'vitest'
import { ignoreCase, matchTokens, type Token } from '../src/filter/glob.js'
import { compileFilter } from '../src/filter/filter.js'
import type { BusEvent } from '../src/event.js'

const event = (data: unknown) => ({ type: 't', data }) as unknown as BusEvent

describe('red team: filter evaluation stays linear on hostile rules and values', () => {
  // `prefix`/`suffix` with `equals-ignore-case` compile to tokens with a `*` at one end. A 1,000-char
  // rule against a 200,000-char value took 1.6 s (prefix) and 15 s (suffix) per event: every live
  // position was stepped once per character of the value. Over HTTP that is one `/stream?filter=`.
  const rule = 'a'.repeat(1000)
  const value = 'a'.repeat(200_000)
  const cases: [string, Token[]][] = [
    ['prefix', [...ignoreCase(rule), null]],
    ['suffix', [null, ...ignoreCase(rule)]],
    ['equals', ignoreCase(rule)],
  ]
  it.each(cases)(
    '%s equals-ignore-case visits positions linear in the rule, not rule × value',
    (_, tokens) => {
      const meter = { steps: 0 }
      const s = tokens === cases[2]![1] ? rule.toUpperCase() : value
      expect(matchTokens(tokens, s, meter)).toBe(true)
      expect(meter.steps).toBeLessThanOrEqual(4 * (rule.length + 2))
    },
  )
  it('still matches what it did: mixed case, ß as SS, misses', () => {
    const f = (r: object, v: string) => compileFilter({ data: { v: [r] } } as never)(event({ v }))
    expect(f({ prefix: { 'equals-ignore-case': 'straße' } }, 'STRASSE-1')).toBe(true)
    expect(f({ suffix: { 'equals-ignore-case': 'straße' } }, 'x-StraSSe')).toBe(true)
    expect(f({ suffix: { 'equals-ignore-case': 'straße' } }, 'x-StraSSe-')).toBe(false)
    expect(f({ prefix: { 'equals-ignore-case': 'ab' } }, 'a')).toBe(false)
    expect(f({ suffix: { 'equals-ignore-case': '' } }, '')).toBe(true)
    expect(f({ suffix: { 'equals-ignore-case': 'b' } }, '')).toBe(false)
    expect(matchTokens([null, ['x']], 'aax')).toBe(true)
    expect(matchTokens([null, ['x'], null], 'axa')).toBe(true)
    expect(matchTokens([['a'], null, ['x']], 'abx')).toBe(true)
    expect(matchTokens([], '')).toBe(true)
    expect(matchTokens([], 'a')).toBe(false)
  })
})
