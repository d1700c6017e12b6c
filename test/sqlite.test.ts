// sqliteStore (tidings/sqlite): the store conformance suite over better-sqlite3 in memory and on a
// file (a second connection for `reopen`, so watch goes through the poll of the file), over
// node:sqlite's DatabaseSync where the runtime has it, and what is the SQLite store's own: SQLITE_BUSY
// waited out, bad options refused, the { path } shortcut, wake-ups, the pruned journal's fallback.
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { sqliteStore, type SqliteDatabase } from '../adapters/sqlite/index.js'
import { TidingsError } from '../src/errors.js'
import { sqlStore } from '../src/internal.js'
import { storeConformance } from '../src/testing.js'

const dir = mkdtempSync(join(tmpdir(), 'tidings-sqlite-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
let files = 0
const freshFile = () => join(dir, `store-${files++}.db`)

const handles = new WeakMap<object, SqliteDatabase>()
const pathOf = new WeakMap<object, string>()
const over = (db: SqliteDatabase, path?: string) => {
  const store = sqliteStore(db, { pollMs: 5 })
  handles.set(store, db)
  if (path) pathOf.set(store, path)
  return store
}

storeConformance(
  'sqliteStore (better-sqlite3, in memory)',
  {
    open: () => over(new Database(':memory:')),
    reopen: (s) => over(handles.get(s)!),
  },
  { describe, it, expect },
)

storeConformance(
  'sqliteStore (better-sqlite3, a file, a second connection)',
  {
    open: () => {
      const path = freshFile()
      return over(new Database(path), path)
    },
    reopen: (s) => over(new Database(pathOf.get(s)!), pathOf.get(s)),
  },
  { describe, it, expect },
)

// node:sqlite appeared in Node 22.5 (flagged until 22.13); this machine runs the Node the CI runs.
const nodeSqlite = (await import('node:sqlite' as string).catch(() => undefined)) as
  { DatabaseSync: new (path: string) => SqliteDatabase } | undefined
if (nodeSqlite) {
  storeConformance(
    'sqliteStore (node:sqlite DatabaseSync, a file, a second connection)',
    {
      open: () => {
        const path = freshFile()
        return over(new nodeSqlite.DatabaseSync(path), path)
      },
      reopen: (s) => over(new nodeSqlite.DatabaseSync(pathOf.get(s)!), pathOf.get(s)),
    },
    { describe, it, expect },
  )
} else {
  it(`node:sqlite is absent from this runtime (Node ${process.versions.node}), so DatabaseSync is not exercised here`, () => {
    const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
    expect(major < 22 || (major === 22 && minor < 5)).toBe(true)
  })
}

const set = (key: string, value: unknown) => ({ type: 'set' as const, key, value })

describe('sqliteStore', () => {
  it('waits out another connection holding the write lock, then commits', async () => {
    const path = freshFile()
    const store = sqliteStore(new Database(path), { busyTimeout: 1 })
    await store.commit({ mutations: [set('a', 1)] })
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    const pending = store.commit({ mutations: [set('a', 2)] })
    // The commit was answered SQLITE_BUSY and waits for its retry: release the lock meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 0))
    other.exec('COMMIT')
    expect((await pending).ok).toBe(true)
    expect((await store.get('a'))?.value).toBe(2)
    other.close()
  })

  it('gives up on a lock that is never released with TIMEOUT, having written nothing', async () => {
    const path = freshFile()
    const store = sqliteStore(new Database(path), { busyTimeout: 1 })
    await store.commit({ mutations: [set('a', 1)] })
    const other = new Database(path)
    other.exec('BEGIN IMMEDIATE')
    const error = await store.commit({ mutations: [set('a', 2)] }).catch((e: unknown) => e)
    expect(error instanceof TidingsError && error.code).toBe('TIMEOUT')
    other.exec('ROLLBACK')
    expect((await store.get('a'))?.value).toBe(1)
    other.close()
  })

  it('syncs every commit to disk by default, and only at checkpoints when asked for normal', () => {
    const level = (db: Database.Database) => db.pragma('synchronous', { simple: true })
    const full = new Database(freshFile()),
      normal = new Database(freshFile())
    sqliteStore(full)
    sqliteStore(normal, { synchronous: 'normal' })
    expect([level(full), level(normal)]).toEqual([2, 1])
    expect(full.pragma('journal_mode', { simple: true })).toBe('wal')
    full.close()
    normal.close()
  })

  it('refuses what is neither a handle nor { path }, and bad options, with INVALID_OPTIONS before touching the file', () => {
    for (const bad of [
      undefined,
      null,
      42,
      {},
      { path: '' },
      { path: 7 },
      { path: 'x.db', pollMs: 0 },
      { path: 'x.db', synchronous: 'off' },
    ]) {
      expect(() => sqliteStore(bad as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      )
    }
    const db = new Database(':memory:')
    for (const bad of [
      { busyTimeout: -1 },
      { busyTimeout: NaN },
      { pollMs: Infinity },
      { synchronous: 'FULL' },
      'fast',
    ]) {
      expect(() => sqliteStore(db, bad as never)).toThrow(
        expect.objectContaining({ code: 'INVALID_OPTIONS' }),
      )
    }
    // Nothing was written to the handle: not even the tables.
    expect(db.prepare(`SELECT count(*) AS n FROM sqlite_master`).get()).toEqual({ n: 0 })
  })

  it('{ path } opens the file with better-sqlite3, and close() closes it', async () => {
    const path = freshFile()
    const store = sqliteStore({ path })
    await store.commit({ mutations: [set('k', { n: 1n })] })
    await store.close()
    await expect(store.get('k')).rejects.toMatchObject({ code: 'CLOSED' })
    const again = sqliteStore({ path })
    expect((await again.get('k'))?.value).toEqual({ n: 1n })
    await again.close()
  })

  it("another process's deletes reach watchers too", async () => {
    const path = freshFile()
    const a = over(new Database(path)),
      b = over(new Database(path))
    await a.commit({ mutations: [set('c/x', 1)] })
    const seen: string[][] = []
    let wake = () => {}
    b.watch('c/', (keys) => {
      seen.push([...keys])
      wake()
    })
    const arrived = new Promise<void>((resolve) => {
      wake = resolve
    })
    await a.commit({ mutations: [{ type: 'delete', key: 'c/x' }] })
    await arrived
    expect(seen).toEqual([['c/x']])
    await a.close()
    await b.close()
  })

  it("a wake-up checks the file for other processes' commits when it fires", async () => {
    const path = freshFile()
    // A poll so slow it never runs in this test: only the wake-up can find the commit.
    const a = sqliteStore(new Database(path), { pollMs: 3_600_000 }),
      b = sqliteStore(new Database(path))
    const seen: string[] = []
    let wake = () => {}
    a.watch('d/', (keys) => {
      seen.push(...keys)
      wake()
    })
    const arrived = new Promise<void>((resolve) => {
      wake = resolve
    })
    await b.commit({ mutations: [set('d/1', 1)] })
    await a.setWakeup(Date.now())
    await arrived
    expect(seen).toEqual(['d/1'])
    await a.close()
    await b.close()
  })

  it('watchers that fell behind a pruned journal still learn the keys written since', async () => {
    const db = new Database(':memory:')
    const driver = {
      exec: (q: string) => {
        db.exec(q)
      },
      prepare: (q: string) => db.prepare(q),
      transaction: <T>(fn: () => T) => db.transaction(fn).immediate(),
    }
    const kv = sqlStore(driver, { label: 'test', journal: true, journalSize: 2 })
    const since = kv.version()
    for (let i = 0; i < 300; i++) kv.commit({ mutations: [set(`e/${i}`, i)] })
    expect(kv.changesSince(since)).toBeUndefined()
    expect(kv.changesSince(kv.version() - 1)?.map((c) => c.keys)).toEqual([['e/299']])
    expect(kv.setSince(since, 'e/').length).toBe(300)
  })
})
