import { openDB, type IDBPDatabase } from 'idb'
import { KV, OUTBOX, upgradeTidings } from './_schema.js'

/** Where the store's object stores live: its own database, or the app's (a connection or a way to get one). */
export type Source =
  | { name: string; db?: undefined }
  | {
      db: IDBPDatabase<any> | (() => IDBPDatabase<any> | Promise<IDBPDatabase<any>>)
      name?: undefined
    }

/**
 * The current connection, reopened on demand. The browser may close it under us: another tab
 * opening a newer version (`versionchange`; we close so its upgrade is not blocked) or an
 * unexpected close (storage cleared, disk error). Either way the next use opens a fresh one.
 */
export const createConnection = (source: Source) => {
  let current: Promise<IDBPDatabase<any>> | undefined
  let closed = false
  const name = source.name ?? (typeof source.db === 'function' ? undefined : source.db.name)

  const forget = (db: IDBPDatabase<any>) => {
    // Only forget the connection that went away, not a newer one opened meanwhile.
    void current?.then(
      (c) => {
        if (c === db) current = undefined
      },
      () => {},
    )
  }
  const watchClose = (db: IDBPDatabase<any>) => {
    db.addEventListener('close', () => forget(db))
    db.addEventListener('versionchange', () => {
      db.close()
      forget(db)
    })
    return db
  }
  const open = async (): Promise<IDBPDatabase<any>> => {
    if (source.name !== undefined) {
      // Whatever version the database is at now (another tab may have upgraded it for its own
      // stores); an upgrade of our own only when our stores are missing.
      for (let version: number | undefined; ;) {
        let db: IDBPDatabase<any> | undefined
        try {
          db = await openDB(source.name, version, {
            upgrade: (d) => upgradeTidings(d),
            // Another tab wants a newer version: step aside; our next use reopens.
            blocking: () => {
              db?.close()
              if (db) forget(db)
            },
            terminated: () => {
              if (db) forget(db)
            },
          })
        } catch (e) {
          // Two tabs upgraded at once and the other won: open again at whatever it left.
          if (e instanceof DOMException && e.name === 'VersionError') {
            version = undefined
            continue
          }
          throw e
        }
        if (db.objectStoreNames.contains(KV) && db.objectStoreNames.contains(OUTBOX)) return db
        version = db.version + 1
        db.close()
      }
    }
    const db = typeof source.db === 'function' ? await source.db() : source.db
    return typeof source.db === 'function' ? watchClose(db) : db
  }

  return {
    /** The database name, when known up front (it names the BroadcastChannel). */
    name,
    get: (): Promise<IDBPDatabase<any>> => {
      if (closed)
        return Promise.reject(new DOMException('the store is closed', 'InvalidStateError'))
      const p = (current ??= open())
      p.catch(() => {
        if (current === p) current = undefined
      })
      return p
    },
    /** The connection failed under a transaction: open a fresh one next time. */
    drop(db: IDBPDatabase<any>) {
      forget(db)
    },
    /** Whether a fresh connection could help: we can reopen it ourselves, or the app gave us a way to. */
    canReopen: source.name !== undefined || typeof source.db === 'function',
    async close() {
      closed = true
      // Only a connection we opened is ours to close.
      if (source.name !== undefined) (await current?.catch(() => undefined))?.close()
      current = undefined
    },
  }
}
