// The work durable handling does per event, counted (no wall-clock thresholds): one timeout timer
// per runner however many handlers run, and no ack cleanup where no ack was stored, while
// timeouts and the ack cleanup behave exactly as before.
import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import { keys } from '../src/store/keys.js'
import { memoryStore } from '../src/store/memory.js'
import type { Mutation, Store } from '../src/store/store.js'
import { manualClock } from '../src/testing.js'

/** A memory store that keeps every mutation it committed. */
const recordingStore = () => {
  const inner = memoryStore()
  const mutations: Mutation[] = []
  const store: Store = {
    ...inner,
    get: (key) => inner.get(key),
    list: (options) => inner.list(options),
    async commit(batch) {
      const result = await inner.commit(batch)
      if (result.ok) mutations.push(...batch.mutations)
      return result
    },
  }
  if (inner.watch) store.watch = (prefix, callback) => inner.watch!(prefix, callback)
  return { store, mutations }
}

describe('handling work per event', () => {
  it('handlers running at once share one timeout timer, and each still times out at its own start plus timeout', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const aborted: [unknown, number][] = []
    await bus.subscribe(
      'slow',
      'job',
      (event, ctx) => {
        ctx.signal.addEventListener('abort', () => aborted.push([event.data, clock.now()]))
        return new Promise(() => {}) // never settles: only the timeout ends it
      },
      { concurrency: 4, timeout: 1000, retry: { attempts: 1 } },
    )
    await clock.advance(0)
    const before = clock.timers
    await bus.publish('job', 'a')
    await clock.advance(400)
    await bus.publish('job', 'b')
    await bus.publish('job', 'c')
    await clock.advance(0)
    expect(clock.timers).toBe(before + 1)
    await clock.advance(600)
    expect(aborted).toEqual([['a', 1000]])
    await clock.advance(400)
    expect(aborted).toEqual([
      ['a', 1000],
      ['b', 1400],
      ['c', 1400],
    ])
    const letters = await bus.deadLetters.list({ subscription: 'slow' })
    expect(letters.map((letter) => [letter.event.data, letter.error.name])).toEqual([
      ['a', 'TidingsError'],
      ['b', 'TidingsError'],
      ['c', 'TidingsError'],
    ])
    await bus.close()
    expect(clock.timers).toBe(0)
  })

  it('a cursor that moves where no ack was stored deletes no ack range; acks stored above it are still deleted', async () => {
    const { store, mutations } = recordingStore()
    const bus = createBus({ store })
    let releaseFirst!: () => void
    const first = new Promise<void>((resolve) => (releaseFirst = resolve))
    const handled: number[] = []
    await bus.subscribe(
      'w',
      'job',
      async (event) => {
        if (event.data === 0) await first
        handled.push(event.data as number)
      },
      { concurrency: 2 },
    )
    await bus.idle()
    const ackRanges = () =>
      mutations.filter(
        (mutation) => mutation.type === 'deleteRange' && mutation.start.startsWith(keys.acks('w')),
      ).length
    // In order, one at a time: the cursor moves over each event as its ack lands, storing none.
    for (let n = 1; n <= 20; n++) await bus.publish('job', n)
    await bus.idle()
    expect(ackRanges()).toBe(0)
    // 0 holds the cursor while 1 is acked above it; when 0 lands, that stored ack is deleted.
    void bus.publish('job', 0)
    await bus.publish('job', 21)
    // 21 runs beside the held 0 and its ack is stored above the cursor.
    const storedAcks = () => store.list({ prefix: keys.acks('w') })
    while (!(await storedAcks()).length) await new Promise((resolve) => setTimeout(resolve, 1))
    expect(handled).toContain(21)
    expect((await storedAcks()).map((entry) => entry.key)).toHaveLength(1)
    releaseFirst()
    await bus.idle()
    expect(ackRanges()).toBe(1)
    expect(await storedAcks()).toEqual([])
    await bus.close()
  })
})
