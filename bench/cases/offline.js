// Case: what a typical offline-first page downloads, tidings beside Workbox Background Sync and
// @tanstack/offline-transactions doing the same job: keep writes made offline in IndexedDB and
// send them to the server when it is reachable, with retries. Each page is bundled the same way
// (esbuild, ESM, splitting, minify, browser; gzip -9): the entry chunk, and the entry plus the
// chunks it imports statically, and the lazy chunks its own start-up calls load (what loads up front). Sizes are deterministic: one run is enough.
// usage: node bench/cases/offline.js
import path from 'node:path'
import { measureEntry, ROOT, TIDINGS_ALIAS } from '../bundle.js'

const alias = {
  ...TIDINGS_ALIAS,
  'tidings/indexeddb': path.join(ROOT, 'adapters', 'indexeddb', 'index.ts'),
}

/** The pages, each with what it does (the peers do less; the table says so). */
export const PAGES = {
  tidings: {
    does: 'local event log in IndexedDB, transactional outbox, bridge (send with retries + receive stream), one durable subscription',
    // Its own calls load these lazy chunks at start: bus.subscribe, and the bridge counting what is pending.
    startup: ['src/subscriptions/subscriptions.ts', 'src/log/read.ts'],
    code: `
import { createBus } from 'tidings'
import { indexedDBStore, outbox, bridge, upgradeTidings } from 'tidings/indexeddb'
import { openDB } from 'idb'
const db = await openDB('shop', 1, {
  upgrade(db) { db.createObjectStore('todos', { keyPath: 'id' }); upgradeTidings(db) },
})
const store = indexedDBStore({ db })
const bus = createBus({ store })
const box = outbox(bus, store)
const sync = bridge(bus, { store, url: '/bus', forward: 'todo.**', receive: 'catalog.**' })
sync.subscribe((status) => console.log(status.online, status.pending))
await bus.subscribe('badge', 'todo.*', async (event) => console.log('badge', event.data))
const todo = { id: crypto.randomUUID(), text: 'Buy milk' }
await box.transaction('todos', (tx, publish) => {
  tx.objectStore('todos').put(todo)
  publish('todo.added', { id: todo.id })
})`,
  },
  'workbox-background-sync': {
    does: 'failed POSTs queued in IndexedDB and replayed (no local log, no receive stream, no subscription)',
    code: `
import { Queue } from 'workbox-background-sync'
const queue = new Queue('todos', { maxRetentionTime: 24 * 60 })
const todo = { id: crypto.randomUUID(), text: 'Buy milk' }
const request = new Request('/todos', { method: 'POST', body: JSON.stringify(todo) })
try { await fetch(request.clone()) } catch { await queue.pushRequest({ request }) }`,
  },
  '@tanstack/offline-transactions': {
    does: 'an outbox of mutations in IndexedDB, retried in order, one tab leading (no receive stream, no subscription)',
    code: `
import { startOfflineExecutor } from '@tanstack/offline-transactions'
import { createCollection, localOnlyCollectionOptions } from '@tanstack/db'
const todos = createCollection(localOnlyCollectionOptions({ id: 'todos', getKey: (todo) => todo.id }))
const offline = startOfflineExecutor({
  collections: { todos },
  mutationFns: {
    syncTodos: async ({ transaction, idempotencyKey }) => {
      await fetch('/todos', { method: 'POST', headers: { 'Idempotency-Key': idempotencyKey }, body: JSON.stringify(transaction.mutations) })
    },
  },
})
const tx = offline.createOfflineTransaction({ mutationFnName: 'syncTodos', autoCommit: false })
tx.mutate(() => todos.insert({ id: crypto.randomUUID(), text: 'Buy milk' }))
await tx.commit()`,
  },
}

const out = {}
for (const [name, page] of Object.entries(PAGES)) {
  const measured = await measureEntry(page.code, { alias, startup: page.startup ?? [] })
  out[name] = { does: page.does, ...measured }
}
process.stdout.write(JSON.stringify(out) + '\n')
