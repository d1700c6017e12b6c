// Event versions in real Chromium over IndexedDB: events stored at version 1 by last month's code
// are read, handled and replayed upcast by a bus that declares version 2, and never rewritten; an
// old client's version 1 events go through the outbox and the bridge as stored and are upcast at
// the server.
import { openDB, type IDBPDatabase } from 'idb'
import { afterEach, describe, expect, it } from 'vitest'
import { createBus } from '../../src/bus.js'
import type { Versioned } from '../../src/event.js'
import { bridge, indexedDBStore, outbox, upgradeTidings } from '../../adapters/indexeddb/index.js'
import { server } from './_commands.js'
import { unique, until } from './_wait.js'

type V1 = { id: string; total: number }
type V2 = { id: string; amount: number; currency: string }
type Events = { 'versioned.placed': Versioned<{ 1: V1; 2: V2 }> }
const versions = {
  'versioned.placed': {
    current: 2 as const,
    upcast: { 1: (v1: V1): V2 => ({ id: v1.id, amount: v1.total, currency: 'EUR' }) },
  },
}

const cleanup: (() => Promise<unknown> | void)[] = []
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c()
})

describe('event versions over IndexedDB', () => {
  it('version 1 events stored by old code are read, handled and replayed upcast, and stay as stored', async () => {
    const name = unique('versions')
    const old = createBus<{ 'versioned.placed': V1 }>({ store: indexedDBStore({ name }) })
    await old.publish('versioned.placed', { id: 'o1', total: 3 })
    await old.publish('versioned.placed', { id: 'o2', total: 4 })
    await old.close()

    const bus = createBus<Events>({ store: indexedDBStore({ name }), versions })
    cleanup.push(() => bus.close())
    const { events } = await bus.read()
    expect(events.map((e) => [e.version, e.data])).toEqual([
      [2, { id: 'o1', amount: 3, currency: 'EUR' }],
      [2, { id: 'o2', amount: 4, currency: 'EUR' }],
    ])
    const seen: unknown[] = []
    await bus.subscribe(
      'report',
      'versioned.placed',
      (e) => {
        seen.push([e.version, e.data.amount])
      },
      { from: 'earliest' },
    )
    await until(() => seen.length === 2, 'both handled')
    await bus.replay('report', { seq: 1 })
    await until(() => seen.length === 4, 'both handled again after the replay')
    expect(seen).toEqual([
      [2, 3],
      [2, 4],
      [2, 3],
      [2, 4],
    ])
    // The log itself is unchanged: version 1, as old code wrote it.
    const raw = await bus.read({ raw: true })
    expect(raw.events.map((e) => [e.version, e.data])).toEqual([
      [1, { id: 'o1', total: 3 }],
      [1, { id: 'o2', total: 4 }],
    ])
  })

  it('the outbox stages an older version (upcast when drained, stored as sent) and refuses a version above the current one', async () => {
    const db: IDBPDatabase<any> = await openDB(unique('app'), 1, {
      upgrade(d) {
        d.createObjectStore('orders', { keyPath: 'id' })
        upgradeTidings(d)
      },
    })
    cleanup.push(() => db.close())
    const store = indexedDBStore({ db })
    const bus = createBus<Events>({ store, versions })
    cleanup.push(() => bus.close())
    await bus.idle()
    const box = outbox(bus, store)
    const refused = box.transaction('orders', (tx, publish) => {
      // The transaction aborts: the app's own write fails with it.
      tx.objectStore('orders')
        .put({ id: 'x' })
        .catch(() => {})
      publish('versioned.placed', { id: 'x', total: 1 }, { version: 3 } as never)
    })
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    expect(await db.count('orders')).toBe(0)
    await box.transaction('orders', (tx, publish) => {
      void tx.objectStore('orders').put({ id: 'o5' })
      publish('versioned.placed', { id: 'o5', total: 5 }, { version: 1 })
    })
    await until(async () => (await bus.read()).events.length === 1, 'the drained event')
    expect((await bus.read()).events[0]).toMatchObject({
      version: 2,
      data: { id: 'o5', amount: 5, currency: 'EUR' },
    })
    expect((await bus.read({ raw: true })).events[0]).toMatchObject({
      version: 1,
      data: { id: 'o5', total: 5 },
    })
  })

  it(
    'an old client publishes version 1 through the outbox; the bridge forwards it as stored and the server upcasts it',
    { timeout: 30_000 },
    async () => {
      const TOKEN = 'versions-token'
      const { id, url } = await server.startServer(TOKEN)
      cleanup.push(() => server.stopServer(id))
      const db: IDBPDatabase<any> = await openDB(unique('old-app'), 1, {
        upgrade(d) {
          d.createObjectStore('orders', { keyPath: 'id' })
          upgradeTidings(d)
        },
      })
      cleanup.push(() => db.close())
      const store = indexedDBStore({ db })
      // Last month's app: no versions option, a `{ id, total }` payload.
      const old = createBus<{ 'versioned.placed': V1 }>({ store })
      cleanup.push(() => old.close())
      const sync = bridge(old, {
        store,
        url,
        token: TOKEN,
        forward: 'versioned.**',
        backoff: { initial: 20, max: 200 },
      })
      cleanup.push(() => sync.close())
      await outbox(old, store).transaction('orders', (tx, publish) => {
        void tx.objectStore('orders').put({ id: 'o9', total: 9 })
        publish('versioned.placed', { id: 'o9', total: 9 }, { key: 'o9' })
      })
      await until(
        async () => (await server.serverLog(id)).events.length === 1,
        'the server to hold the event',
      )
      expect((await server.serverLog(id)).events[0]).toMatchObject({
        type: 'versioned.placed',
        data: { amount: 9, currency: 'EUR' },
      })
      expect((await server.serverLog(id, true)).events[0]).toMatchObject({
        version: 1,
        data: { id: 'o9', total: 9 },
      })
    },
  )
})
