import { TidingsError, type Store } from '../../src/index.js'
import { sqlStore } from '../../src/internal.js'
import { BUSY_TIMEOUT, driverOf, isBusy, type SqliteDatabase } from './_driver.js'
import { watchersOf } from './_watch.js'

/**
 * Options of {@link sqliteStore} over a handle the app opened.
 *
 * @example
 * const options: SqliteStoreOptions = { busyTimeout: 10_000, synchronous: 'normal' }
 */
export interface SqliteStoreOptions {
  /** How long (ms) SQLite waits for another process's write lock before a commit retries. Default 5000. */
  busyTimeout?: number
  /** How often (ms) the file is checked for other processes' commits while watched. Default 50. */
  pollMs?: number
  /**
   * `'full'` (default): a commit is on disk when it resolves, so a resolved publish survives a power
   * loss. `'normal'`: faster (WAL is synced at checkpoints, not per commit); a commit survives the
   * process crashing but the last ones may be lost if the machine does.
   */
  synchronous?: 'full' | 'normal'
}

/**
 * A {@link Store} over SQLite, with `watch`, `setWakeup` and `close`.
 *
 * @example
 * const store: SqliteStore = sqliteStore({ path: 'events.db' })
 * await store.close()
 */
export interface SqliteStore extends Store {
  watch(prefix: string, callback: (keys: readonly string[]) => void): () => void
  setWakeup(at: number | undefined): Promise<void>
  /** Stops this store's watches and timer; closes the handle too when the store opened it (`{ path }`). */
  close(): Promise<void>
}

const POLL_MS = 50
// Tries of one operation that SQLite answered "busy" even after its busy timeout.
const BUSY_TRIES = 8

const isCount = (value: unknown, least: number) =>
  typeof value === 'number' && Number.isFinite(value) && value >= least

/**
 * Refuses options that are not what {@link SqliteStoreOptions} says, before the handle is touched.
 *
 * @example
 * checkOptions({ pollMs: 0 }) // throws TidingsError INVALID_OPTIONS
 */
export const checkOptions = (options: unknown): void => {
  const { busyTimeout, pollMs, synchronous } = (
    typeof options === 'object' && options !== null ? options : { busyTimeout: NaN }
  ) as Record<string, unknown>
  if (
    (busyTimeout !== undefined && !isCount(busyTimeout, 0)) ||
    (pollMs !== undefined && !isCount(pollMs, 1)) ||
    (synchronous !== undefined && synchronous !== 'full' && synchronous !== 'normal')
  ) {
    throw new TidingsError(
      'INVALID_OPTIONS',
      "sqliteStore options: busyTimeout a number >= 0, pollMs a number >= 1, synchronous 'full' or 'normal'",
    )
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `operation`; after SQLITE_BUSY (nothing was written) once more after a random pause. */
const retryBusy = async <T>(operation: () => T): Promise<T> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return operation()
    } catch (error) {
      if (!isBusy(error)) throw error
      if (attempt >= BUSY_TRIES) {
        throw new TidingsError(
          'TIMEOUT',
          'the SQLite database stayed locked by another connection; nothing was written',
          { cause: error },
        )
      }
      // Full jitter, so two processes that collided do not collide again in step.
      await pause(Math.random() * Math.min(2 ** attempt * 5, 200))
    }
  }
}

/**
 * Opens the store over a handle: see {@link sqliteStore}. `owned` handles are closed by `close()`.
 *
 * @example
 * const store = storeOver(new Database('events.db'), {}, true)
 */
export const storeOver = (
  db: SqliteDatabase,
  options: SqliteStoreOptions,
  owned: boolean,
): SqliteStore => {
  checkOptions(options)
  const kv = sqlStore(
    driverOf(db, options.busyTimeout ?? BUSY_TIMEOUT, options.synchronous ?? 'full'),
    { label: 'the SQLite database', journal: true },
  )
  const hub = watchersOf(db, kv, options.pollMs ?? POLL_MS)
  const unwatches = new Set<() => void>()
  let wakeAt = Infinity
  let wakeTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  const open = () => {
    if (closed) throw new TidingsError('CLOSED', 'this sqliteStore is closed')
  }

  return {
    get: (key) => retryBusy(() => (open(), kv.get(key))),
    list: (listOptions) => retryBusy(() => (open(), kv.list(listOptions))),
    async commit(commit) {
      const result = await retryBusy(() => (open(), kv.commit(commit)))
      if (!result.ok) return { ok: false }
      hub.committed(Number(result.version), result.keys ?? [])
      return { ok: true, version: result.version }
    },
    watch(prefix, callback) {
      const unwatch = hub.watch(prefix, callback)
      const off = () => {
        unwatches.delete(off)
        unwatch()
      }
      unwatches.add(off)
      return off
    },
    // There is no alarm: a timer in this process, which checks the file for other processes'
    // commits when it fires. It never keeps the process alive; each bus arms its own timers.
    async setWakeup(at) {
      if (at !== undefined && at >= wakeAt) return
      clearTimeout(wakeTimer)
      wakeAt = at ?? Infinity
      if (at === undefined || closed) return
      wakeTimer = setTimeout(
        () => {
          wakeAt = Infinity
          if (!closed)
            try {
              hub.poll()
            } catch {
              /* the watch poll tries again */
            }
        },
        Math.max(0, Math.min(at - Date.now(), 2 ** 31 - 1)),
      )
      ;(wakeTimer as { unref?: () => void }).unref?.()
    },
    async close() {
      if (closed) return
      closed = true
      clearTimeout(wakeTimer)
      for (const off of [...unwatches]) off()
      if (owned) db.close()
    },
  }
}
