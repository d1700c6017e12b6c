import { unwrap, type IDBPDatabase } from 'idb'
import { TidingsError } from '../../src/errors.js'
import {
  prefixEnd,
  type Commit,
  type CommitResult,
  type ListOptions,
  type Store,
  type StoreEntry,
} from '../../src/store/store.js'
import { createConnection, type Source } from './_connection.js'
import { KV } from './_schema.js'
import { createWatchers } from './_watch.js'

/** Options of {@link indexedDBStore}: a database of its own by `name`, or the app's `db` (see `upgradeTidings`). */
export type IndexedDBStoreOptions = Source & {
  /**
   * Names the BroadcastChannel that tells other tabs about commits. Default: the database name.
   * Give it when `db` is a function, whose database name is not known up front.
   */
  channel?: string
}

/** The store, plus what the outbox and cross-tab helpers need from it. */
export interface IndexedDBStore extends Store {
  /** The name tabs share this storage under: the channel name, by default the database name. */
  readonly name: string
  /** The current connection (reopened after the browser closed it). */
  database(): Promise<IDBPDatabase<any>>
  close(): Promise<void>
}

// How often one commit is tried on a fresh connection after the browser closed the old one.
const REOPENS = 3

const rangeOf = ({ prefix = '', start, end }: ListOptions): IDBKeyRange | null | undefined => {
  const lo = start !== undefined && start > prefix ? start : prefix
  const hi = prefix ? (end !== undefined && end < prefixEnd(prefix) ? end : prefixEnd(prefix)) : end
  if (hi !== undefined && lo >= hi) return null
  if (hi === undefined) return lo ? IDBKeyRange.lowerBound(lo) : undefined
  return lo ? IDBKeyRange.bound(lo, hi, false, true) : IDBKeyRange.upperBound(hi, true)
}

/** A transaction that never committed because the connection went away: safe to run again elsewhere. */
const connectionLost = (e: unknown) =>
  e instanceof DOMException &&
  (e.name === 'InvalidStateError' || e.name === 'AbortError' || e.name === 'UnknownError')

/**
 * A {@link Store} over IndexedDB (via idb): survives reloads, shared by every tab of the origin.
 * A commit is one readwrite transaction: its checks are read and compared inside it, its
 * mutations issued behind them, and nothing but IndexedDB is awaited in between. Each commit
 * stamps what it writes with a version unique across tabs (a random prefix and a counter).
 * `watch` hears commits from every tab (BroadcastChannel). A quota error rejects with code
 * `STORAGE_FULL`, and the transaction's abort guarantees nothing of the commit was written.
 *
 * @example
 * import { createBus } from 'tidings'
 * import { indexedDBStore } from 'tidings/indexeddb'
 * const bus = createBus({ store: indexedDBStore({ name: 'my-app-events' }) })
 */
export const indexedDBStore = (options: IndexedDBStoreOptions): IndexedDBStore => {
  const conn = createConnection(options)
  const channel = options.channel ?? conn.name
  if (channel === undefined)
    throw new TidingsError(
      'INVALID_OPTIONS',
      'indexedDBStore({ db: () => ... }) needs a `channel` name',
    )
  const watchers = createWatchers(`tidings:${channel}`)
  const prefix = Math.random().toString(36).slice(2, 10)
  let counter = 0

  /** Runs `fn` on the current connection; once more on a fresh one if the browser closed it first. */
  const withDb = async <T>(fn: (db: IDBPDatabase<any>) => Promise<T>): Promise<T> => {
    for (let attempt = 1; ; attempt++) {
      const db = await conn.get()
      try {
        return await fn(db)
      } catch (e) {
        if (!conn.canReopen || attempt >= REOPENS || !connectionLost(e)) throw e
        conn.drop(db)
      }
    }
  }

  const commitOn = async (
    db: IDBPDatabase<any>,
    { checks = [], mutations }: Commit,
  ): Promise<CommitResult> => {
    const tx = db.transaction(KV, 'readwrite')
    const done = tx.done
    done.catch(() => {})
    const raw = unwrap(tx).objectStore(KV)
    const version = `${prefix}.${(++counter).toString(36)}`
    let conflict = false
    try {
      // Checks and writes are issued together, without a round trip in between: requests run in
      // order, and a transaction commits only after every request's success event has run, so a
      // failed check aborting from its own success event still rolls back the writes behind it.
      for (const c of checks) {
        const req = raw.get(c.key)
        req.onsuccess = () => {
          if (conflict || ((req.result as StoreEntry | undefined)?.version ?? null) === c.version)
            return
          conflict = true
          tx.abort()
        }
      }
      // Raw requests: no promise per write, and a failure surfaces once, through the transaction.
      for (const m of mutations) {
        if (m.type === 'set') raw.put({ key: m.key, value: m.value, version } satisfies StoreEntry)
        else if (m.type === 'delete') raw.delete(m.key)
        else if (m.start < m.end) raw.delete(IDBKeyRange.bound(m.start, m.end, false, true))
      }
      await done
      return { ok: true, version }
    } catch (e) {
      if (conflict) return { ok: false }
      try {
        tx.abort()
      } catch {
        /* already finished */
      }
      const error = tx.error ?? e
      if (error instanceof DOMException && error.name === 'QuotaExceededError') {
        throw new TidingsError(
          'STORAGE_FULL',
          'IndexedDB is over its quota; nothing of this commit was written',
          { cause: error },
        )
      }
      // A value IndexedDB cannot clone (a function, a class instance) is the caller's bug, not storage's.
      throw error
    }
  }

  return {
    async get(key) {
      return withDb(async (db) => (await db.get(KV, key)) as StoreEntry | undefined)
    },
    async list(o) {
      const range = rangeOf(o)
      if (range === null || o.limit === 0) return []
      return withDb(async (db) => {
        if (!o.reverse) return (await db.getAll(KV, range, o.limit)) as StoreEntry[]
        const out: StoreEntry[] = []
        const limit = o.limit ?? Infinity
        for (
          let c = await db.transaction(KV).store.openCursor(range, 'prev');
          c && out.length < limit;
          c = await c.continue()
        )
          out.push(c.value as StoreEntry)
        return out
      })
    },
    async commit(c) {
      const result = await withDb((db) => commitOn(db, c))
      // Range deletes are not listed: the core watches appends and single-key writes only.
      if (result.ok)
        watchers.changed(c.mutations.flatMap((m) => (m.type === 'deleteRange' ? [] : [m.key])))
      return result
    },
    watch: watchers.watch,
    name: channel,
    database: () => conn.get(),
    async close() {
      watchers.close()
      await conn.close()
    },
  }
}
