// Runs inside headless Chromium (bundled by bench/cases/indexeddb.js): tidings over IndexedDB
// side by side with raw IndexedDB, on the same records, in the same page.
import { deleteDB, openDB } from 'idb'
import { createBus } from '../../../dist/src/index.js'
import { indexedDBStore } from '../../../dist/adapters/indexeddb/index.js'

const data = { sku: 'AB-1234', qty: 2, total: 42.5, country: 'FR' }
// The envelope tidings stores for each publish, so raw IndexedDB writes the same bytes.
const record = (i) => ({
  key: `e/${String(i).padStart(15, '0')}`,
  value: {
    id: `bench-${i}`,
    type: 'order.placed',
    source: 'tidings',
    time: Date.now(),
    seq: i,
    data,
  },
  version: 'v',
})
let dbs = 0
const fresh = () => `bench-${Date.now()}-${dbs++}`

const raw = async (n, perPut) => {
  const name = fresh()
  const db = await openDB(name, 1, {
    upgrade: (d) => {
      d.createObjectStore('s', { keyPath: 'key' })
    },
  })
  const t0 = performance.now()
  if (perPut) {
    for (let i = 1; i <= n; i++) {
      const tx = db.transaction('s', 'readwrite')
      tx.objectStore('s').put(record(i))
      await tx.done
    }
  } else {
    const tx = db.transaction('s', 'readwrite')
    const s = tx.objectStore('s')
    for (let i = 1; i <= n; i++) s.put(record(i))
    await tx.done
  }
  const ms = performance.now() - t0
  db.close()
  await deleteDB(name)
  return ms
}

const tidings = async (n, awaited) => {
  const name = fresh()
  const store = indexedDBStore({ name })
  const bus = createBus({ store })
  await bus.idle()
  const t0 = performance.now()
  if (awaited) for (let i = 0; i < n; i++) await bus.publish('order.placed', data)
  else {
    for (let i = 0; i < n; i++) bus.publish('order.placed', data)
    await bus.idle()
  }
  const ms = performance.now() - t0
  await bus.close()
  await store.close()
  await deleteDB(name)
  return ms
}

// A backlog of n events, then one durable subscription (defaults: concurrency 1) from the
// earliest: timed from subscribe until every event is handled and acknowledged.
const durable = async (n, concurrency) => {
  const name = fresh()
  const store = indexedDBStore({ name })
  const bus = createBus({ store })
  for (let i = 0; i < n; i++) bus.publish('order.placed', data)
  await bus.idle()
  let handled = 0
  const t0 = performance.now()
  await bus.subscribe(
    'bench',
    'order.*',
    async () => {
      handled++
    },
    { from: 'earliest', concurrency },
  )
  while (handled < n) await new Promise((r) => setTimeout(r, 1))
  await bus.idle()
  const ms = performance.now() - t0
  await bus.close()
  await store.close()
  await deleteDB(name)
  return ms
}

window.bench = {
  rawOneTx: (n) => raw(n, false),
  rawTxPerPut: (n) => raw(n, true),
  publishUnawaited: (n) => tidings(n, false),
  publishAwaited: (n) => tidings(n, true),
  durable: (n) => durable(n, 1),
  durable16: (n) => durable(n, 16),
}
