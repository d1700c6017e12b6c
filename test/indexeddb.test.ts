// The IndexedDB store under fake-indexeddb in Node: the shared conformance suite plus what is
// special to IndexedDB (a second connection, the app's own database). Real Chromium runs the same
// suite in test/browser/.
import 'fake-indexeddb/auto'
import { openDB } from 'idb'
import { describe, expect, it } from 'vitest'
import { indexedDBStore, upgradeTidings } from '../adapters/indexeddb/index.js'
import { indexedDBConformance } from './_indexeddb-conformance.js'
import { createBus } from '../src/bus.js'

indexedDBConformance('indexedDBStore (fake-indexeddb)', 'conformance')

describe("indexedDBStore in the app's own database", () => {
  it("uses the object stores upgradeTidings created next to the app's", async () => {
    const db = await openDB('app-db', 1, {
      upgrade(d) {
        d.createObjectStore('todos', { keyPath: 'id' })
        upgradeTidings(d)
      },
    })
    expect([...db.objectStoreNames].sort()).toEqual(['tidings', 'tidings-outbox', 'todos'])
    const store = indexedDBStore({ db })
    expect((await store.commit({ mutations: [{ type: 'set', key: 'k', value: 1 }] })).ok).toBe(true)
    expect((await db.get('tidings', 'k'))?.value).toBe(1)
    await store.close()
    db.close()
  })

  it('reopens a connection the browser closed (another tab upgrading) and loses no commit', async () => {
    const store = indexedDBStore({ name: 'upgraded' })
    await store.commit({ mutations: [{ type: 'set', key: 'a', value: 1 }] })
    // Another tab opens a newer version: ours steps aside so its upgrade is not blocked.
    const newer = await openDB('upgraded', 2, {
      upgrade(d) {
        d.createObjectStore('extra')
      },
    })
    newer.close()
    await expect(
      store.commit({ mutations: [{ type: 'set', key: 'b', value: 2 }] }),
    ).resolves.toMatchObject({ ok: true })
    expect((await store.get('b'))?.value).toBe(2)
  })
})

describe('buses over indexedDBStore', () => {
  it("a bus on a second connection sees the first one's events through the BroadcastChannel watch", async () => {
    const a = createBus({ store: indexedDBStore({ name: 'two-buses' }) })
    const b = createBus({ store: indexedDBStore({ name: 'two-buses' }) })
    const seen: unknown[] = []
    b.on('**', (e) => {
      seen.push(e.data)
    })
    await b.idle()
    await a.publish('x.y', { n: 1 })
    await a.publish('x.y', { n: 2 })
    for (const until = Date.now() + 5000; seen.length < 2 && Date.now() < until;)
      await new Promise((r) => setTimeout(r, 10))
    expect(seen).toEqual([{ n: 1 }, { n: 2 }])
    await a.close()
    await b.close()
  })
})
