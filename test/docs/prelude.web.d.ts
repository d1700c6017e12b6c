// Free names of the browser and Node snippets (test/docs.test.ts): the names an adapter README's
// first block imports, which its later blocks use as they would in one file.
import type * as idb from 'tidings/indexeddb'
import type { createBus as create } from 'tidings'
import type { UpgradeWebSocket } from 'hono/ws'

declare global {
  const createBus: typeof create
  const indexedDBStore: typeof idb.indexedDBStore
  const upgradeTidings: typeof idb.upgradeTidings
  const crossTab: typeof idb.crossTab
  const outbox: typeof idb.outbox
  const bridge: typeof idb.bridge
  /** An IndexedDB store of the app (indexedDBStore({ db })). */
  const store: idb.IndexedDBStore
  /** The runtime's WebSocket helper (hono/cloudflare-workers, @hono/node-server…). */
  const upgradeWebSocket: UpgradeWebSocket
}
export {}
