import type { IDBPDatabase } from 'idb'

/** The object store holding tidings' keys: records `{ key, value, version }`, keyed by `key`. */
export const KV = 'tidings'
/** Events staged by `outbox.transaction`, drained into the log after their transaction commits. */
export const OUTBOX = 'tidings-outbox'

/**
 * Creates tidings' object stores (`tidings` and `tidings-outbox`) in the app's own database. Call it
 * from the `upgrade` callback of the `openDB` that opens the database you hand to
 * `indexedDBStore({ db })`; it does nothing when they exist, so calling it on every upgrade is fine.
 *
 * @example
 * const db = await openDB('shop', 3, {
 *   upgrade(db) {
 *     if (!db.objectStoreNames.contains('todos')) db.createObjectStore('todos', { keyPath: 'id' })
 *     upgradeTidings(db)
 *   },
 * })
 * const store = indexedDBStore({ db })
 */
export const upgradeTidings = (db: IDBPDatabase<any> | IDBDatabase): void => {
  const names = db.objectStoreNames as DOMStringList
  if (!names.contains(KV)) db.createObjectStore(KV, { keyPath: 'key' })
  if (!names.contains(OUTBOX)) db.createObjectStore(OUTBOX, { autoIncrement: true })
}
