// The log's wake-ups from another writer (issue 13.2): the store's watch may report a commit before
// a read of the head sees it (a read already in flight, or a store whose reads lag its
// notifications). The wake-up must not be dropped: the log reads again until the head reaches
// what the watch reported, with no later commit needed.
import { describe, expect, it } from 'vitest'
import { createBus, memoryStore } from '../src/index.js'
import type { BusEvent } from '../src/event.js'
import type { Store, StoreEntry } from '../src/store/store.js'

/**
 * A view of `inner` whose watch fires before the commit is visible to reads: after each
 * notification of new events, the next `lag` listings of the log (where the head is: the last
 * segment) answer without the segments that notification reported.
 */
const laggingView = (inner: Store, lag: number) => {
  let stale = 0
  let hidden = new Set<string>()
  let staleReads = 0
  const view: Store = {
    get: (key) => inner.get(key),
    async list(o) {
      const got = await inner.list(o)
      if (stale === 0 || !(o.start ?? o.prefix ?? '').startsWith('e/')) return got
      stale--
      staleReads++
      return got.filter((entry: StoreEntry) => !hidden.has(entry.key))
    },
    commit: (c) => inner.commit(c),
    watch: (prefix, cb) =>
      inner.watch!(prefix, (keys) => {
        const events = keys.filter((k) => k.startsWith('e/'))
        if (events.length) {
          stale = lag
          hidden = new Set(events)
        }
        cb(keys)
      }),
  }
  return { view, staleReads: () => staleReads }
}

const received = (seen: BusEvent[], n: number) =>
  new Promise<void>((resolve) => {
    const check = () => (seen.length >= n ? resolve() : setTimeout(check, 1))
    check()
  })

describe('log wake-ups from another writer', () => {
  it('a wake-up whose first read of the head is stale still delivers, with no later commit', async () => {
    const inner = memoryStore()
    const lagging = laggingView(inner, 1)
    const writer = createBus({ store: inner })
    const reader = createBus({ store: lagging.view })
    const seen: BusEvent[] = []
    reader.on('**', (e) => {
      seen.push(e)
    })
    await reader.idle()
    await writer.publish('note.added', { n: 1 })
    await received(seen, 1)
    expect(lagging.staleReads()).toBeGreaterThan(0) // the lag really hit a read
    expect(seen.map((e) => e.seq)).toEqual([1])
    await writer.publishMany([
      { type: 'note.added', data: { n: 2 } },
      { type: 'note.added', data: { n: 3 } },
    ])
    await received(seen, 3)
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3])
    await writer.close()
    await reader.close()
  })

  it('a store whose reads lag for several tries: the log keeps retrying until the head catches up', async () => {
    const inner = memoryStore()
    const lagging = laggingView(inner, 6)
    const writer = createBus({ store: inner })
    const reader = createBus({ store: lagging.view })
    const seen: BusEvent[] = []
    reader.on('**', (e) => {
      seen.push(e)
    })
    await reader.idle()
    for (let n = 1; n <= 5; n++) await writer.publish('note.added', { n })
    await received(seen, 5)
    expect(lagging.staleReads()).toBeGreaterThanOrEqual(6)
    expect(seen.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5])
    await writer.close()
    await reader.close()
  })
})
