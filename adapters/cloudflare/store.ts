import type { Store } from '../../src/index.js'
import { sqlStore, type SqlDriver } from '../../src/internal.js'
import { wakeAt } from './_alarm.js'

/** Durable Object storage as a {@link SqlDriver}: `storage.sql` runs statements, `transactionSync` commits. */
const driverOf = (storage: DurableObjectStorage): SqlDriver => {
  const sql = storage.sql
  return {
    exec: (query) => {
      sql.exec(query)
    },
    // workerd caches prepared statements by text itself: a "statement" here is the text.
    prepare: (query) => ({
      run: (...params) => sql.exec(query, ...params),
      all: (...params) => sql.exec(query, ...params).toArray(),
    }),
    transaction: (fn) => storage.transactionSync(fn),
  }
}

/**
 * The Durable Object store: one SQLite table `(key TEXT PRIMARY KEY, value TEXT, version INTEGER)`
 * in the object's own storage (a class listed under `new_sqlite_classes`), the same layout as
 * `sqliteStore` on Node (both speak it through the core's `sqlStore`). Values are written as
 * superjson text (the project's wire codec), so Date, Map, Set, BigInt and undefined come back as
 * they went in. A commit is one `transactionSync`: its checks and writes run with nothing else in
 * between, and a failed check or an error rolls every write back. `setWakeup` moves the object's
 * alarm earlier, never later, since the alarm is shared with the object's clock (see clock.ts and _alarm.ts).
 *
 * @example
 * export class Counter extends DurableObject {
 *   store = durableObjectStore(this.ctx.storage)
 *   async bump() { await this.store.commit({ mutations: [{ type: 'set', key: 'n', value: 1 }] }) }
 * }
 */
export const durableObjectStore = (storage: DurableObjectStorage): Store => {
  const kv = sqlStore(driverOf(storage), { label: 'Durable Object storage' })
  return {
    get: async (key) => kv.get(key),
    list: async (options) => kv.list(options),
    async commit(commit) {
      const result = kv.commit(commit)
      return result.ok ? { ok: true, version: result.version } : { ok: false }
    },
    setWakeup: (at) => (at === undefined ? Promise.resolve() : wakeAt(storage, at)),
  }
}
