import { TidingsError } from '../errors.js'
import { fromTagged, toTagged } from '../tagged.js'
import {
  prefixEnd,
  type Check,
  type Commit,
  type CommitResult,
  type ListOptions,
  type Mutation,
  type StoreEntry,
} from './store.js'

/**
 * A value SQL parameters take here: keys and encoded values are text, versions integers.
 *
 * @example
 * const params: SqlValue[] = ['e/000000000000001', '{"json":1}', 7]
 */
export type SqlValue = string | number | null

/**
 * A prepared statement: `run` for writes, `all` for rows (as objects keyed by column name).
 *
 * @example
 * const rows = driver.prepare('SELECT key FROM tidings_kv WHERE key >= ?').all('e/')
 */
export interface SqlStatement {
  run(...params: SqlValue[]): unknown
  all(...params: SqlValue[]): unknown[]
}

/**
 * The tiny synchronous driver the SQL store speaks through. Durable Object storage
 * (`storage.sql` + `transactionSync`), better-sqlite3 and `node:sqlite` each fit it in a few lines.
 *
 * @example
 * const driver: SqlDriver = {
 *   exec: (sql) => db.exec(sql),
 *   prepare: (sql) => db.prepare(sql),
 *   transaction: (fn) => db.transaction(fn).immediate(),
 * }
 */
export interface SqlDriver {
  /** Runs statements without parameters (the schema). */
  exec(sql: string): void
  prepare(sql: string): SqlStatement
  /** Runs `fn` in one write transaction: committed when it returns, rolled back when it throws. */
  transaction<T>(fn: () => T): T
}

/**
 * Options of {@link sqlStore}.
 *
 * @example
 * const options: SqlStoreOptions = { label: 'the SQLite database', journal: true }
 */
export interface SqlStoreOptions {
  /** How errors name the storage, e.g. `'Durable Object storage'`. */
  label: string
  /**
   * Keep a journal of which keys each commit wrote (table `tidings_changes`), so other connections
   * over the same database can learn what changed (see {@link SqlStore.changesSince}). Off for a
   * Durable Object: nothing else writes its storage.
   */
  journal?: boolean
  /** Journal entries kept (by version) behind the newest; older ones are pruned as commits go. */
  journalSize?: number
}

/**
 * One journalled commit: its version and the keys it set or deleted (range deletes are not listed).
 *
 * @example
 * const change: SqlChange = { version: 42, keys: ['e/000000000000007', 'm/head'] }
 */
export interface SqlChange {
  readonly version: number
  readonly keys: readonly string[]
}

/**
 * The key-value core of a SQL-backed store: get, list, commit (synchronous), and the change journal.
 *
 * @example
 * const kv: SqlStore = sqlStore(driver, { label: 'the SQLite database' })
 * kv.commit({ mutations: [{ type: 'set', key: 'a', value: 1 }] })
 */
export interface SqlStore {
  get(key: string): StoreEntry | undefined
  list(options: ListOptions): StoreEntry[]
  /** Commits atomically; `keys` are the keys set or deleted (for watchers), when it landed. */
  commit(commit: Commit): CommitResult & { keys?: readonly string[] }
  /** The version of the last commit in the database (any connection's). */
  version(): number
  /**
   * Journalled commits after `version`, oldest first; `undefined` when the journal no longer
   * reaches back that far (pruned), so the caller must fall back to {@link SqlStore.setSince}.
   */
  changesSince(version: number): SqlChange[] | undefined
  /** Keys under `prefix` whose last write is newer than `version` (a full scan: the rare fallback). */
  setSince(version: number, prefix: string): string[]
}

// The tables: one key-value table and one counter row, as the Durable Object store has always had.
const TABLE = 'tidings_kv'
const META = 'tidings_meta'
const CHANGES = 'tidings_changes'
// Above every ASCII key: the end of an open range.
const TOP = '\uffff'
const JOURNAL_SIZE = 10_000
// How often (in commits of one handle) the journal is pruned.
const PRUNE_EVERY = 256

type Row = { key: string; value: string; version: number }

const FULL = /SQLITE_FULL|database or disk is full/i

/** Creates the tables when missing and prepares every statement the store runs. */
const prepareStatements = (driver: SqlDriver, options: SqlStoreOptions) => {
  driver.exec(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID`,
  )
  // One counter per database, shared by every handle on it: versions never repeat, even across restarts.
  driver.exec(
    `CREATE TABLE IF NOT EXISTS ${META} (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL)`,
  )
  driver.exec(`INSERT OR IGNORE INTO ${META} (id, version) VALUES (0, 0)`)
  if (options.journal)
    driver.exec(
      `CREATE TABLE IF NOT EXISTS ${CHANGES} (version INTEGER PRIMARY KEY, keys TEXT NOT NULL)`,
    )

  return {
    get: driver.prepare(`SELECT key, value, version FROM ${TABLE} WHERE key = ?`),
    versionOf: driver.prepare(`SELECT version FROM ${TABLE} WHERE key = ?`),
    listAsc: driver.prepare(
      `SELECT key, value, version FROM ${TABLE} WHERE key >= ? AND key < ? ORDER BY key ASC LIMIT ?`,
    ),
    listDesc: driver.prepare(
      `SELECT key, value, version FROM ${TABLE} WHERE key >= ? AND key < ? ORDER BY key DESC LIMIT ?`,
    ),
    bump: driver.prepare(`UPDATE ${META} SET version = version + 1 WHERE id = 0 RETURNING version`),
    current: driver.prepare(`SELECT version FROM ${META} WHERE id = 0`),
    put: driver.prepare(`INSERT OR REPLACE INTO ${TABLE} (key, value, version) VALUES (?, ?, ?)`),
    delete: driver.prepare(`DELETE FROM ${TABLE} WHERE key = ?`),
    deleteRange: driver.prepare(`DELETE FROM ${TABLE} WHERE key >= ? AND key < ?`),
    ...(options.journal
      ? {
          journal: driver.prepare(`INSERT INTO ${CHANGES} (version, keys) VALUES (?, ?)`),
          changes: driver.prepare(
            `SELECT version, keys FROM ${CHANGES} WHERE version > ? ORDER BY version`,
          ),
          oldest: driver.prepare(`SELECT min(version) AS version FROM ${CHANGES}`),
          prune: driver.prepare(`DELETE FROM ${CHANGES} WHERE version <= ?`),
          setSince: driver.prepare(
            `SELECT key FROM ${TABLE} WHERE version > ? AND key >= ? AND key < ?`,
          ),
        }
      : {}),
  }
}

/**
 * The one SQL layout of tidings, shared by the Durable Object store and the SQLite store:
 * `tidings_kv (key TEXT PRIMARY KEY, value TEXT, version INTEGER)` plus a version counter in
 * `tidings_meta`. Values are superjson-style tagged JSON (Date, Map, Set, BigInt and undefined
 * come back as they went in). A commit is one driver transaction: checks, the version bump and the
 * writes run with nothing in between, and a failed check or an error writes nothing.
 *
 * @example
 * const kv = sqlStore(driver, { label: 'the SQLite database' })
 * kv.commit({ mutations: [{ type: 'set', key: 'a', value: 1 }] })
 * kv.get('a')?.value // 1
 */
export const sqlStore = (driver: SqlDriver, options: SqlStoreOptions): SqlStore => {
  const statements = prepareStatements(driver, options)
  const journalSize = options.journalSize ?? JOURNAL_SIZE
  let commits = 0

  const entry = (row: Row): StoreEntry => ({
    key: row.key,
    value: fromTagged(JSON.parse(row.value)),
    version: String(row.version),
  })
  const encode = (value: unknown) => JSON.stringify(toTagged(value))
  const checksPass = (checks: readonly Check[]) =>
    checks.every((check) => {
      const row = statements.versionOf.all(check.key)[0] as { version: number } | undefined
      return (row ? String(row.version) : null) === check.version
    })
  const write = (
    mutations: readonly Mutation[],
    values: (string | undefined)[],
    version: number,
  ) => {
    mutations.forEach((mutation, index) => {
      if (mutation.type === 'set') statements.put.run(mutation.key, values[index]!, version)
      else if (mutation.type === 'delete') statements.delete.run(mutation.key)
      else statements.deleteRange.run(mutation.start, mutation.end)
    })
  }

  return {
    get(key) {
      const row = statements.get.all(key)[0] as Row | undefined
      return row && entry(row)
    },
    list({ prefix = '', start, end, limit, reverse = false }) {
      const low = start !== undefined && start > prefix ? start : prefix
      let high = prefix ? prefixEnd(prefix) : TOP
      if (end !== undefined && end < high) high = end
      return (
        (reverse ? statements.listDesc : statements.listAsc).all(low, high, limit ?? -1) as Row[]
      ).map(entry)
    },
    commit({ checks = [], mutations }) {
      // Encode first: a value that cannot be written fails before the transaction opens.
      const values = mutations.map((mutation) =>
        mutation.type === 'set' ? encode(mutation.value) : undefined,
      )
      const keys = mutations.flatMap((mutation) =>
        mutation.type === 'deleteRange' ? [] : [mutation.key],
      )
      try {
        return driver.transaction(() => {
          if (!checksPass(checks)) return { ok: false as const }
          const version = (statements.bump.all()[0] as { version: number }).version
          write(mutations, values, version)
          if (statements.journal) {
            statements.journal.run(version, JSON.stringify(keys))
            if (++commits % PRUNE_EVERY === 0) statements.prune!.run(version - journalSize)
          }
          return { ok: true as const, version: String(version), keys }
        })
      } catch (error) {
        // The transaction rolled back: nothing was written. Only a full database is storage's
        // fault with a code of its own (not any error that says "exceeded": CPU time, subrequests).
        if (FULL.test(String((error as Error)?.message))) {
          throw new TidingsError(
            'STORAGE_FULL',
            `${options.label} is full: ${(error as Error).message}`,
            { cause: error },
          )
        }
        throw error
      }
    },
    version: () => (statements.current.all()[0] as { version: number }).version,
    changesSince(version) {
      if (!statements.changes) return undefined
      const oldest = (statements.oldest!.all()[0] as { version: number | null }).version
      // Pruned past `version`: some commits after it are no longer journalled.
      if (oldest !== null && oldest > version + 1) return undefined
      return (statements.changes.all(version) as { version: number; keys: string }[]).map(
        (row) => ({ version: row.version, keys: JSON.parse(row.keys) as string[] }),
      )
    },
    setSince(version, prefix) {
      if (!statements.setSince) return []
      return (
        statements.setSince.all(version, prefix, prefix ? prefixEnd(prefix) : TOP) as {
          key: string
        }[]
      ).map((row) => row.key)
    },
  }
}
