import { TidingsError } from '../../src/index.js'
import type { SqliteDatabase } from './_driver.js'
import { checkOptions, storeOver, type SqliteStore, type SqliteStoreOptions } from './store.js'

/**
 * `sqliteStore({ path })`: the file to open (created when absent) with better-sqlite3.
 *
 * @example
 * const options: SqlitePathOptions = { path: 'events.db', pollMs: 100 }
 */
export interface SqlitePathOptions extends SqliteStoreOptions {
  path: string
}

type BetterSqlite = { default: new (path: string) => SqliteDatabase }

const isHandle = (x: unknown): x is SqliteDatabase =>
  typeof x === 'object' &&
  x !== null &&
  typeof (x as SqliteDatabase).prepare === 'function' &&
  typeof (x as SqliteDatabase).exec === 'function'

/**
 * A durable {@link Store} on SQLite for Node: servers, CLIs, cron jobs and worker processes.
 * Pass a synchronous handle (better-sqlite3's `Database`, or `DatabaseSync` from `node:sqlite`
 * where the runtime has it), or `{ path }` to let tidings open the file with better-sqlite3 (an
 * optional peer dependency, loaded only then). The layout is the Durable Object store's. Several
 * processes may share one file: WAL, commits as `BEGIN IMMEDIATE` transactions whose version checks
 * decide races, `watch` hears other processes' commits (by polling `PRAGMA data_version`), and
 * SQLITE_BUSY is waited out and retried.
 *
 * @example
 * import { createBus } from 'tidings'
 * import { sqliteStore } from 'tidings/sqlite'
 * const bus = createBus({ store: sqliteStore({ path: 'events.db' }) })
 */
export function sqliteStore(db: SqliteDatabase, options?: SqliteStoreOptions): SqliteStore
export function sqliteStore(options: SqlitePathOptions): SqliteStore
export function sqliteStore(
  source: SqliteDatabase | SqlitePathOptions,
  options: SqliteStoreOptions = {},
): SqliteStore {
  if (isHandle(source)) return storeOver(source, options, false)
  if (
    typeof source !== 'object' ||
    source === null ||
    typeof (source as SqlitePathOptions).path !== 'string' ||
    !(source as SqlitePathOptions).path
  ) {
    throw new TidingsError(
      'INVALID_OPTIONS',
      'sqliteStore takes a SQLite handle (better-sqlite3, node:sqlite DatabaseSync) or { path }',
    )
  }
  const { path, ...rest } = source as SqlitePathOptions
  // Checked now, not once better-sqlite3 has loaded: bad options throw where they are given.
  checkOptions(rest)
  return deferred(
    import('better-sqlite3' as string).then(
      (module: BetterSqlite) => storeOver(new module.default(path), rest, true),
      (error: unknown) => {
        throw new TidingsError(
          'INVALID_OPTIONS',
          'sqliteStore({ path }) needs better-sqlite3 (npm install better-sqlite3), or pass a handle you opened',
          { cause: error },
        )
      },
    ),
  )
}

/** A store whose handle is still being opened: every call waits for it (watches are handed over). */
const deferred = (opening: Promise<SqliteStore>): SqliteStore => {
  let store: SqliteStore | undefined
  void opening.then(
    (s) => {
      store = s
    },
    () => {},
  )
  const ready = async () => store ?? (await opening)
  return {
    get: async (key) => (await ready()).get(key),
    list: async (options) => (await ready()).list(options),
    commit: async (commit) => (await ready()).commit(commit),
    watch(prefix, callback) {
      let off: (() => void) | undefined
      let gone = false
      if (store) off = store.watch(prefix, callback)
      else
        void opening.then(
          (s) => {
            if (!gone) off = s.watch(prefix, callback)
          },
          () => {},
        )
      return () => {
        gone = true
        off?.()
      }
    },
    setWakeup: async (at) => (await ready()).setWakeup(at),
    close: async () => (await ready()).close(),
  }
}
