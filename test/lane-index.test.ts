import { describe, expect, it } from 'vitest'
import type { BusEvent } from '../src/event.js'
import { createLaneIndex, indexEvent, walkFrontier } from '../src/subscriptions/lane-index.js'

// The pump's lane index (issue 16): a completion finds the next event of its key without walking the
// blocked key's backlog. Work is counted (events looked at), not timed.
const event = (seq: number, key?: string) =>
  ({ seq, key, id: `id${seq}`, type: 't', data: null, time: 0 }) as unknown as BusEvent

describe('lane index', () => {
  it('looks at a constant number of events per walk while one hot key holds thousands', () => {
    const index = createLaneIndex()
    const done = new Set<number>()
    for (let seq = 1; seq <= 5000; seq++) indexEvent(index, event(seq, 'hot'))
    const order: number[] = []
    let looked = 0
    for (let step = 0; step < 5000; step++) {
      walkFrontier(
        index,
        (candidate) => {
          looked++
          return done.has(candidate.seq)
        },
        (candidate) => {
          order.push(candidate.seq)
          return true
        },
      )
      done.add(order.at(-1)!) // the event visited completes before the next walk
    }
    expect(order).toEqual(Array.from({ length: 5000 }, (_, i) => i + 1))
    expect(looked).toBeLessThan(5000 * 4)
  })

  it("visits unkeyed events and each key's first undone event in seq order", () => {
    const index = createLaneIndex()
    const done = new Set<number>()
    for (const [seq, key] of [
      [1, 'a'],
      [2, 'a'],
      [3, undefined],
      [4, 'b'],
      [5, 'a'],
      [6, 'b'],
      [7, undefined],
    ] as const)
      indexEvent(index, event(seq, key))
    const visit = () => {
      const seen: number[] = []
      walkFrontier(
        index,
        (e) => done.has(e.seq),
        (e) => {
          seen.push(e.seq)
          return true
        },
      )
      return seen
    }
    expect(visit()).toEqual([1, 3, 4, 7])
    done.add(1)
    done.add(4)
    expect(visit()).toEqual([2, 3, 6, 7])
    done.add(2)
    done.add(3)
    expect(visit()).toEqual([5, 6, 7])
  })
})
