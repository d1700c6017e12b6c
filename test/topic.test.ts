import { describe, expect, it } from 'vitest'
import { checkTopic, createTrie, patternSegments } from '../src/topic/topic.js'
import { compilePattern, matchSegments, patternCovers } from '../src/topic/pattern.js'
import { TidingsError } from '../src/errors.js'

const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return [(e as TidingsError).code, (e as Error).message] as const
  }
  return undefined
}

describe('topics', () => {
  it('accepts 1..16 segments of [A-Za-z0-9_-]', () => {
    for (const t of ['order.placed', 'a_b-C9', 'A.b.0', Array(16).fill('x').join('.')])
      expect(() => checkTopic(t)).not.toThrow()
  })
  it.each([
    ['', 'segment 1 ("") is empty'],
    ['order..placed', 'segment 2 ("") is empty'],
    ['order.', 'segment 2 ("") is empty'],
    ['order.*', 'segment 2 ("*") is a wildcard'],
    ['order.**', 'segment 2 ("**") is a wildcard'],
    ['order.pla ced', 'segment 2 ("pla ced") has characters outside'],
    ['ordér', 'segment 1 ("ordér") has characters outside'],
    [Array(17).fill('x').join('.'), 'has 17 segments'],
  ])('refuses %j with INVALID_TOPIC naming the part', (topic, why) => {
    const [c, message] = code(() => checkTopic(topic))!
    expect(c).toBe('INVALID_TOPIC')
    expect(message).toContain(why)
  })
  it('refuses a non-string topic', () => {
    expect(code(() => checkTopic(42))?.[0]).toBe('INVALID_TOPIC')
  })

  it('remembers valid topics without letting an invalid one through, past its bound too', () => {
    // checkTopic keeps the topics it found valid (1,024, then it starts over).
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1500; i++) expect(() => checkTopic(`tenant${i}.order`)).not.toThrow()
      for (const bad of ['order..placed', 'order.*', '', 'a'.repeat(3) + '.€', 7, null])
        expect(code(() => checkTopic(bad))?.[0]).toBe('INVALID_TOPIC')
    }
  })
})

describe('patterns', () => {
  it.each([
    ['order.$', 'segment 2'],
    ['a.b*', 'mixes a wildcard'],
    ['a..b', 'is empty'],
    ['***', 'mixes a wildcard'],
  ])('refuses %j with INVALID_PATTERN', (p, why) => {
    const [c, message] = code(() => patternSegments(p))!
    expect(c).toBe('INVALID_PATTERN')
    expect(message).toContain(why)
  })
  const cases: [string, string, boolean][] = [
    ['order.*', 'order.placed', true],
    ['order.*', 'order', false],
    ['order.*', 'order.placed.eu', false],
    ['order.**', 'order', true],
    ['order.**', 'order.placed', true],
    ['order.**', 'order.placed.eu', true],
    ['**', 'anything.at.all', true],
    ['**.eu', 'order.placed.eu', true],
    ['**.eu', 'eu', true],
    ['**.eu', 'order.placed.us', false],
    ['a.**.z', 'a.z', true],
    ['a.**.z', 'a.b.c.z', true],
    ['a.**.z', 'a.b.c', false],
    ['*.*', 'a.b', true],
    ['*.*', 'a', false],
    ['a.b', 'a.b', true],
    ['a.b', 'a.bc', false],
    ['**.*', 'a', true],
    ['**.**', 'a.b', true],
  ]
  it.each(cases)('%s against %s is %s (compiled and in a trie)', (p, t, want) => {
    expect(compilePattern(p)(t)).toBe(want)
    const trie = createTrie<string>()
    trie.add(p, 'hit')
    expect(trie.match(t)).toEqual(want ? ['hit'] : [])
  })
})

describe('trie', () => {
  it('returns each matching value once, even through two ** paths', () => {
    const trie = createTrie<string>()
    trie.add('**.*.**', 'ambiguous')
    trie.add('order.*', 'star')
    trie.add('order.placed', 'exact')
    trie.add('user.*', 'other')
    expect(trie.match('order.placed').sort()).toEqual(['ambiguous', 'exact', 'star'])
  })
  it('removes values and prunes empty branches', () => {
    const trie = createTrie<number>()
    const offs = Array.from({ length: 100 }, (_, i) => trie.add(`tenant${i}.order.*`, i))
    expect(trie.match('tenant7.order.x')).toEqual([7])
    offs.forEach((off) => off())
    offs[0]!() // a second call is harmless
    expect(trie.size).toBe(0)
    expect(trie.match('tenant7.order.x')).toEqual([])
  })
  it('visits only the branches a topic can reach', () => {
    // Cost must not grow with subscriptions that do not match: count node visits through a Map spy.
    const trie = createTrie<number>()
    for (let i = 0; i < 5000; i++) trie.add(`tenant${i}.order.*`, i)
    const gets = { n: 0 }
    const orig = Map.prototype.get
    Map.prototype.get = function (this: Map<unknown, unknown>, k: unknown) {
      gets.n++
      return orig.call(this, k)
    }
    try {
      trie.match('tenant42.order.created')
    } finally {
      Map.prototype.get = orig
    }
    const small = gets.n
    for (let i = 5000; i < 10000; i++) trie.add(`tenant${i}.order.*`, i)
    gets.n = 0
    Map.prototype.get = function (this: Map<unknown, unknown>, k: unknown) {
      gets.n++
      return orig.call(this, k)
    }
    try {
      expect(trie.match('tenant42.order.created')).toEqual([42])
    } finally {
      Map.prototype.get = orig
    }
    expect(gets.n).toBe(small)
    expect(small).toBeLessThan(20)
  })
})

describe('matching is linear in segments, however many ** a pattern holds', () => {
  // Before the NFA, `**.` × 11 + `x` against a 16-segment topic took ~0.3 s (exponential backtracking).
  const topic = Array(16).fill('a').join('.')
  const stars = (k: number) => '**.'.repeat(k) + 'x'
  it('matchSegments steps at most (pattern segments + 1) × topic segments', () => {
    for (const k of [1, 5, 10, 15]) {
      const meter = { steps: 0 }
      expect(matchSegments(patternSegments(stars(k)), topic.split('.'), meter)).toBe(false)
      expect(meter.steps).toBeLessThanOrEqual((k + 2) * 16)
    }
    expect(compilePattern(stars(15))(topic)).toBe(false)
  })
  it('the trie visits each node at most once per segment', () => {
    for (const k of [1, 5, 10, 15]) {
      const trie = createTrie<string>()
      trie.add(stars(k), 'deep')
      trie.add('**.a', 'hit')
      const meter = { steps: 0 }
      expect(trie.match(topic, meter)).toEqual(['hit'])
      // live nodes per segment: at most the k+1 `**` nodes of the first pattern, the root and the `**.a` branch
      expect(meter.steps).toBeLessThanOrEqual((k + 4) * 16)
    }
  })
  it('the trie stays linear when ** alternate with other segments (no run to collapse)', () => {
    const p = '**.a.'.repeat(7) + 'x' // 15 segments, 7 of them **
    const trie = createTrie<string>()
    trie.add(p, 'v')
    const meter = { steps: 0 }
    expect(trie.match(topic, meter)).toEqual([])
    expect(meter.steps).toBeLessThanOrEqual(16 * 16)
    expect(trie.match(Array(15).fill('a').join('.') + '.x')).toEqual(['v'])
  })
  it('a 15-** pattern still matches what it should', () => {
    const p = '**.'.repeat(15) + 'a'
    expect(compilePattern(p)(topic)).toBe(true)
    const trie = createTrie<number>()
    trie.add(p, 1)
    expect(trie.match(topic)).toEqual([1])
  })
  it('scope containment (hono) is memoized: a 15-** scope against 16 segments answers at once (it backtracked ~C(30,15) paths)', () => {
    expect(patternCovers('**.'.repeat(15) + 'x', Array(15).fill('*').join('.') + '.y')).toBe(false)
    expect(patternCovers('**.'.repeat(7) + 'x', 'a.*.b.**.x')).toBe(true)
    expect(patternCovers('order.*', 'order.**')).toBe(false)
    expect(patternCovers('order.**', 'order.*.eu')).toBe(true)
  })
})

describe('topics named like Object.prototype members are ordinary topics', () => {
  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('%s', (t) => {
    const trie = createTrie<string>()
    trie.add(t, 'exact')
    trie.add('*', 'star')
    trie.add(`${t}.**`, 'deep')
    expect(trie.match(t).sort()).toEqual(['deep', 'exact', 'star'])
    expect(trie.match('other').sort()).toEqual(['star'])
    expect(compilePattern(`*.${t}`)(`a.${t}`)).toBe(true)
  })
})
