import type { SqlDriver } from '../../src/internal.js'

/**
 * The synchronous SQLite handle `sqliteStore` needs. better-sqlite3's `Database` and Node's
 * built-in `DatabaseSync` (`node:sqlite`, Node 22.5+) both have this shape; tidings depends on
 * neither: the app passes the handle.
 *
 * @example
 * import Database from 'better-sqlite3'
 * const db: SqliteDatabase = new Database('events.db')
 */
export interface SqliteDatabase {
  exec(sql: string): unknown
  prepare(sql: string): { run(...params: any[]): unknown; all(...params: any[]): unknown[] }
  close(): unknown
}

/**
 * How long (ms) SQLite itself waits for another process's write lock before it answers SQLITE_BUSY.
 *
 * @example
 * db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT}`)
 */
export const BUSY_TIMEOUT = 5000

/**
 * Whether SQLite answered "busy" (another connection holds the lock): better-sqlite3 says so in
 * `code` (`SQLITE_BUSY`, `SQLITE_BUSY_SNAPSHOT`, ...), node:sqlite in `errcode` (5, extended or not).
 *
 * @example
 * isBusy(Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' })) // true
 */
export const isBusy = (error: unknown): boolean => {
  const { code, errcode, message } = (error ?? {}) as {
    code?: unknown
    errcode?: unknown
    message?: unknown
  }
  return (
    (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) ||
    (typeof errcode === 'number' && (errcode & 0xff) === 5) ||
    (typeof message === 'string' && /database is locked/.test(message))
  )
}

/**
 * Sets the handle up for several processes over one file and wraps it as the core's driver:
 * WAL (readers never block the writer, and a process killed mid-commit leaves the last committed
 * state), a busy timeout, the `synchronous` level, and write transactions that take the write lock when they begin
 * (`BEGIN IMMEDIATE`), so a commit's checks read the newest state and cannot be overtaken between
 * reading and writing. The transaction is spelled out in SQL because `DatabaseSync` has no helper.
 *
 * @example
 * const kv = sqlStore(driverOf(new Database('events.db'), 5000, 'full'), { label: 'the SQLite database', journal: true })
 */
export const driverOf = (
  db: SqliteDatabase,
  busyTimeout: number,
  synchronous: 'full' | 'normal',
): SqlDriver => {
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeout))}`)
  // Said explicitly: better-sqlite3 builds with a WAL default of NORMAL that applies only to
  // connections opening a file already in WAL mode, so the first and later ones would differ.
  db.exec(`PRAGMA synchronous = ${synchronous === 'normal' ? 'NORMAL' : 'FULL'}`)
  const begin = db.prepare('BEGIN IMMEDIATE')
  const commit = db.prepare('COMMIT')
  const rollback = db.prepare('ROLLBACK')
  return {
    exec: (sql) => {
      db.exec(sql)
    },
    prepare: (sql) => db.prepare(sql),
    transaction(fn) {
      begin.run()
      try {
        const result = fn()
        commit.run()
        return result
      } catch (error) {
        // SQLite may have rolled back already (a full disk); then there is nothing left to undo.
        try {
          rollback.run()
        } catch {
          /* no transaction is active */
        }
        throw error
      }
    },
  }
}
