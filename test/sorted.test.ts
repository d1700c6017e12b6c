import { describe, expect, it } from 'vitest'
import { SortedKeys } from '../src/store/sorted-keys.js'

// A seeded generator, so a failure replays.
const rng = (seed: number) => () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff

describe('SortedKeys (the memory store index)', () => {
  it('agrees with a sorted array through thousands of random inserts, removals and range removals', () => {
    const r = rng(42)
    const keys = new SortedKeys()
    const ref = new Set<string>()
    const key = () => `k/${String(Math.floor(r() * 5000)).padStart(5, '0')}`
    for (let step = 0; step < 20_000; step++) {
      const op = r()
      if (op < 0.6) {
        const k = key()
        if (!ref.has(k)) {
          ref.add(k)
          keys.insert(k)
        }
      } else if (op < 0.9) {
        const k = key()
        if (ref.has(k)) {
          ref.delete(k)
          keys.remove(k)
        }
      } else {
        const [a, b] = [key(), key()].sort() as [string, string]
        const gone = keys.removeRange(a, b)
        const want = [...ref].filter((k) => k >= a && k < b).sort()
        want.forEach((k) => ref.delete(k))
        expect(gone).toEqual(want)
      }
      if (step % 1000 === 0) {
        const sorted = [...ref].sort()
        expect(keys.range('', '\uffff', Infinity, false)).toEqual(sorted)
        expect(keys.range('k/01000', 'k/02000', 7, true)).toEqual(
          sorted
            .filter((k) => k >= 'k/01000' && k < 'k/02000')
            .reverse()
            .slice(0, 7),
        )
      }
    }
  })

  it('keeps appends in order across many chunks', () => {
    const keys = new SortedKeys()
    for (let i = 0; i < 5000; i++) keys.insert(`e/${String(i).padStart(6, '0')}`)
    keys.removeRange('e/000000', 'e/004000')
    const left = keys.range('', '\uffff', Infinity, false)
    expect(left).toEqual(
      Array.from({ length: 1000 }, (_, i) => `e/${String(4000 + i).padStart(6, '0')}`),
    )
  })
})

describe('the scheduler heap', () => {
  it('pops in key order through random pushes and pops', async () => {
    const { createHeap } = await import('../src/schedule/heap.js')
    const r = rng(7)
    const heap = createHeap<number>()
    const ref: number[] = []
    for (let step = 0; step < 5000; step++) {
      if (r() < 0.6 || !ref.length) {
        const k = Math.floor(r() * 1000)
        heap.push(k, k)
        ref.push(k)
      } else {
        ref.sort((a, b) => a - b)
        expect(heap.pop()?.[0]).toBe(ref.shift())
      }
      expect(heap.size).toBe(ref.length)
    }
  })
})
