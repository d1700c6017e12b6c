// The IndexedDB store in real Chromium: the shared conformance suite, plus a bus over it.
import { openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import { indexedDBStore } from '../../adapters/indexeddb/index.js'
import { indexedDBConformance } from '../_indexeddb-conformance.js'

const run = Math.random().toString(36).slice(2, 8)
indexedDBConformance('indexedDBStore (Chromium)', `conformance-${run}`)

describe('a bus over indexedDBStore', () => {
  it('keeps events and subscriptions across a new connection and bus', async () => {
    const name = `bus-${run}`
    const a = createBus({ store: indexedDBStore({ name }) })
    await a.publish('order.placed', { total: 1 })
    await a.close()
    const b = createBus({ store: indexedDBStore({ name }) })
    const { events } = await b.read()
    expect(events.map((e) => e.data)).toEqual([{ total: 1 }])
    await b.close()
  })
})

describe('indexedDBStore when the browser closes its connection', () => {
  it("steps aside for another tab's upgrade and commits on a fresh connection", async () => {
    const name = `upgrade-${run}`
    const store = indexedDBStore({ name })
    await store.commit({ mutations: [{ type: 'set', key: 'a', value: 1 }] })
    // Another tab opens a newer version with a store of its own: this blocks until ours closes.
    const newer = await openDB(name, 7, {
      upgrade(d) {
        d.createObjectStore('theirs')
      },
    })
    newer.close()
    expect((await store.commit({ mutations: [{ type: 'set', key: 'b', value: 2 }] })).ok).toBe(true)
    expect((await store.list({})).map((e) => e.value)).toEqual([1, 2])
    await store.close()
  })
})
