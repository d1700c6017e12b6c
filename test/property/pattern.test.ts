import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { compilePattern, matchSegments } from '../../src/topic/pattern.js'
import { createTrie } from '../../src/topic/topic.js'
import { runs } from './_oracle.js'

/**
 * The obviously-correct reference: a table over (pattern position, topic position), filled from the
 * end. reach[i][j]: pattern segments from i match topic segments from j.
 */
const reference = (pattern: string, topic: string): boolean => {
  const p = pattern.split('.'),
    t = topic.split('.')
  const reach = Array.from({ length: p.length + 1 }, () => Array<boolean>(t.length + 1).fill(false))
  reach[p.length]![t.length] = true
  for (let i = p.length - 1; i >= 0; i--) {
    for (let j = t.length; j >= 0; j--) {
      const s = p[i]!
      if (s === '**') reach[i]![j] = reach[i + 1]![j]! || (j < t.length && reach[i]![j + 1]!)
      else reach[i]![j] = j < t.length && (s === '*' || s === t[j]) && reach[i + 1]![j + 1]!
    }
  }
  return reach[0]![0]!
}

// A small alphabet so that matches happen, with the names of Object.prototype members among it.
const word = fc.constantFrom(
  'a',
  'b',
  'c',
  'constructor',
  '__proto__',
  'toString',
  'hasOwnProperty',
)
const topic = fc.array(word, { minLength: 1, maxLength: 16 }).map((s) => s.join('.'))
const pattern = fc
  .array(
    fc.oneof(
      { weight: 3, arbitrary: word },
      { weight: 2, arbitrary: fc.constant('*') },
      { weight: 3, arbitrary: fc.constant('**') },
    ),
    { minLength: 1, maxLength: 16 },
  )
  .map((s) => s.join('.'))

describe('pattern matching against a reference matcher', () => {
  it('compilePattern and a one-pattern trie agree with the reference', () => {
    fc.assert(
      fc.property(pattern, topic, (p, t) => {
        const want = reference(p, t)
        expect(compilePattern(p)(t)).toBe(want)
        const trie = createTrie<string>()
        trie.add(p, 'v')
        expect(trie.match(t)).toEqual(want ? ['v'] : [])
      }),
      runs(3000),
    )
  })

  it('the work is at most (pattern segments + 1) × topic segments', () => {
    fc.assert(
      fc.property(pattern, topic, (p, t) => {
        const meter = { steps: 0 }
        matchSegments(p.split('.'), t.split('.'), meter)
        expect(meter.steps).toBeLessThanOrEqual((p.split('.').length + 1) * t.split('.').length)
      }),
      runs(1000),
    )
  })

  it('a trie with many patterns added and removed returns exactly the reference set', () => {
    const op = fc.oneof(
      { weight: 3, arbitrary: fc.record({ add: pattern }) },
      { weight: 1, arbitrary: fc.record({ remove: fc.nat() }) },
    )
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 40 }),
        fc.array(topic, { minLength: 1, maxLength: 5 }),
        (ops, topics) => {
          const trie = createTrie<number>()
          const held = new Map<number, { pattern: string; off: () => void }>()
          ops.forEach((o, id) => {
            if ('add' in o) held.set(id, { pattern: o.add, off: trie.add(o.add, id) })
            else if (held.size) {
              const victim = [...held.keys()][o.remove % held.size]!
              held.get(victim)!.off()
              held.delete(victim)
            }
          })
          expect(trie.size).toBe(held.size)
          for (const t of topics) {
            const want = [...held]
              .filter(([, h]) => reference(h.pattern, t))
              .map(([id]) => id)
              .sort((a, b) => a - b)
            expect(trie.match(t).sort((a, b) => a - b)).toEqual(want)
          }
        },
      ),
      runs(1000),
    )
  })
})
