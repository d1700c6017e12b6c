import { TidingsError } from '../../src/errors.js'
import { prefixEnd, type Store, type StoreEntry } from '../../src/store/store.js'
import { fromTagged, toTagged } from '../../src/tagged.js'

const TABLE = 'tidings_kv'
const META = 'tidings_meta'
// Above every ASCII key: the end of an open range.
const TOP = '\uffff'

type Row = { key: string; value: string; version: number }

/**
 * The Durable Object store: one SQLite table `(key TEXT PRIMARY KEY, value TEXT, version INTEGER)`
 * in the object's own storage (a class listed under `new_sqlite_classes`). Values are written as
 * superjson text (the project's wire codec), so Date, Map, Set, BigInt and undefined come back as
 * they went in. A commit is one `transactionSync`: its checks and writes run with nothing else in
 * between, and a failed check or an error rolls every write back. `setWakeup` moves the object's
 * alarm earlier, never later, since the alarm is shared with the object's clock (see clock.ts).
 *
 * @example
 * export class Counter extends DurableObject {
 *   store = durableObjectStore(this.ctx.storage)
 *   async bump() { await this.store.commit({ mutations: [{ type: 'set', key: 'n', value: 1 }] }) }
 * }
 */
export const durableObjectStore = (storage: DurableObjectStorage): Store => {
  const sql = storage.sql
  sql.exec(
    `CREATE TABLE IF NOT EXISTS ${TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID`,
  )
  // One counter per storage, shared by every handle on it: versions never repeat, even across restarts.
  sql.exec(
    `CREATE TABLE IF NOT EXISTS ${META} (id INTEGER PRIMARY KEY CHECK (id = 0), version INTEGER NOT NULL)`,
  )
  sql.exec(`INSERT OR IGNORE INTO ${META} (id, version) VALUES (0, 0)`)

  const entry = (r: Row): StoreEntry => ({
    key: r.key,
    value: fromTagged(JSON.parse(r.value)),
    version: String(r.version),
  })
  const encode = (v: unknown) => JSON.stringify(toTagged(v))

  return {
    async get(key) {
      const r = sql
        .exec<Row>(`SELECT key, value, version FROM ${TABLE} WHERE key = ?`, key)
        .toArray()[0]
      return r && entry(r)
    },
    async list({ prefix = '', start, end, limit, reverse = false }) {
      const lo = start !== undefined && start > prefix ? start : prefix
      let hi = prefix ? prefixEnd(prefix) : TOP
      if (end !== undefined && end < hi) hi = end
      const rows = sql
        .exec<Row>(
          `SELECT key, value, version FROM ${TABLE} WHERE key >= ? AND key < ? ORDER BY key ${reverse ? 'DESC' : 'ASC'} LIMIT ?`,
          lo,
          hi,
          limit ?? -1,
        )
        .toArray()
      return rows.map(entry)
    },
    async commit({ checks = [], mutations }) {
      // Encode first: a value that cannot be written fails before the transaction opens.
      const values = mutations.map((m) => (m.type === 'set' ? encode(m.value) : undefined))
      try {
        return storage.transactionSync(() => {
          for (const c of checks) {
            const r = sql
              .exec<{ version: number }>(`SELECT version FROM ${TABLE} WHERE key = ?`, c.key)
              .toArray()[0]
            if ((r ? String(r.version) : null) !== c.version) return { ok: false as const }
          }
          const version = sql
            .exec<{ version: number }>(
              `UPDATE ${META} SET version = version + 1 WHERE id = 0 RETURNING version`,
            )
            .one().version
          mutations.forEach((m, i) => {
            if (m.type === 'set')
              sql.exec(
                `INSERT OR REPLACE INTO ${TABLE} (key, value, version) VALUES (?, ?, ?)`,
                m.key,
                values[i],
                version,
              )
            else if (m.type === 'delete') sql.exec(`DELETE FROM ${TABLE} WHERE key = ?`, m.key)
            else sql.exec(`DELETE FROM ${TABLE} WHERE key >= ? AND key < ?`, m.start, m.end)
          })
          return { ok: true as const, version: String(version) }
        })
      } catch (e) {
        // The transaction rolled back: nothing was written.
        // workerd's words for a full database ("database or disk is full: SQLITE_FULL"); not any
        // error that says "exceeded" (CPU time, subrequests), which must not read as STORAGE_FULL.
        if (/SQLITE_FULL|database or disk is full/i.test(String((e as Error)?.message))) {
          throw new TidingsError(
            'STORAGE_FULL',
            `Durable Object storage is full: ${(e as Error).message}`,
            { cause: e },
          )
        }
        throw e
      }
    },
    setWakeup: (at) => (at === undefined ? Promise.resolve() : wakeAt(storage, at)),
  }
}

// The alarm each storage is known to be set for, so a later wake-up never pushes an earlier one back.
const armed = new WeakMap<DurableObjectStorage, number>()

/**
 * @internal Moves the object's one alarm to `at` when that is earlier than where it stands. The
 * alarm handler forgets it (see {@link alarmFired}) and re-arms for what is still due.
 */
export const wakeAt = async (storage: DurableObjectStorage, at: number): Promise<void> => {
  const cur = armed.get(storage)
  if (cur !== undefined && cur <= at) return
  armed.set(storage, at)
  await storage.setAlarm(at)
}

/** @internal The alarm went off: it is no longer set. */
export const alarmFired = (storage: DurableObjectStorage): void => {
  armed.delete(storage)
}
