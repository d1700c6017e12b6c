// Case: tidings over SQLite in Node (tidings/sqlite over better-sqlite3, a file in the temp dir),
// side by side with a raw better-sqlite3 loop writing the same records into the same table shape.
// Both sides set the same pragmas: WAL, synchronous = FULL (the store's default: a commit is on disk
// when it resolves); with BENCH_SQLITE_SYNC=normal both use NORMAL instead.
//   unawaited: n publishes not awaited, then idle (group commit)  vs  raw-batched: n inserts, one transaction
//   awaited:   n publishes awaited one by one                     vs  raw-each:    n inserts, one transaction each
//   durable:   a backlog of n events, then one durable subscription (concurrency 1) from the earliest,
//              timed from subscribe until every event is handled and acknowledged
// usage: node bench/cases/sqlite.js <unawaited|awaited|durable|raw-batched|raw-each> <events per round>
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { args, expectCalls, measure } from '../harness.js'

const {
  subject,
  nums: [n = 10_000],
} = args()
const synchronous = process.env.BENCH_SQLITE_SYNC === 'normal' ? 'normal' : 'full'
const data = { sku: 'AB-1234', qty: 2, total: 42.5, country: 'FR' }
const dir = mkdtempSync(path.join(os.tmpdir(), 'tidings-sqlite-bench-'))
let files = 0
const fresh = () => path.join(dir, `bench-${files++}.db`)
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))

// The envelope tidings stores for each publish, so the raw loop writes the same bytes.
const record = (i) =>
  JSON.stringify({
    id: `bench-${i}`,
    type: 'order.placed',
    source: 'tidings',
    time: Date.now(),
    seq: i,
    data,
  })

const raw = (perInsert) => async (count) => {
  const db = new Database(fresh())
  db.exec('PRAGMA journal_mode = WAL')
  db.exec(`PRAGMA synchronous = ${synchronous.toUpperCase()}`)
  db.exec(
    'CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, version INTEGER NOT NULL) WITHOUT ROWID',
  )
  const insert = db.prepare('INSERT INTO kv (key, value, version) VALUES (?, ?, ?)')
  const one = db.transaction((i) => insert.run(`e/${String(i).padStart(15, '0')}`, record(i), i))
  const all = db.transaction((k) => {
    for (let i = 1; i <= k; i++) insert.run(`e/${String(i).padStart(15, '0')}`, record(i), 1)
  })
  const t0 = performance.now()
  if (perInsert) for (let i = 1; i <= count; i++) one.immediate(i)
  else all.immediate(count)
  const ms = performance.now() - t0
  db.close()
  return ms
}

const tidings = (mode) => async (count) => {
  const { createBus } = await import('tidings')
  const { sqliteStore } = await import('tidings/sqlite')
  const db = new Database(fresh())
  const store = sqliteStore(db, { synchronous })
  const bus = createBus({ store })
  await bus.idle()
  let ms
  if (mode === 'durable') {
    for (let i = 0; i < count; i++) bus.publish('order.placed', data)
    await bus.idle()
    let handled = 0
    const t0 = performance.now()
    await bus.subscribe(
      'bench',
      'order.*',
      async () => {
        handled++
      },
      { from: 'earliest' },
    )
    while (handled < count) await new Promise((resolve) => setTimeout(resolve, 1))
    await bus.idle()
    ms = performance.now() - t0
    expectCalls(handled, count, 'tidings durable')
  } else {
    const t0 = performance.now()
    if (mode === 'awaited') for (let i = 0; i < count; i++) await bus.publish('order.placed', data)
    else {
      for (let i = 0; i < count; i++) bus.publish('order.placed', data)
      await bus.idle()
    }
    ms = performance.now() - t0
  }
  await bus.close()
  await store.close()
  db.close()
  return ms
}

const subjects = {
  'raw-batched': raw(false),
  'raw-each': raw(true),
  unawaited: tidings('unawaited'),
  awaited: tidings('awaited'),
  durable: tidings('durable'),
}
if (!subjects[subject]) throw new Error(`unknown subject ${subject}`)
await measure(subjects[subject], { n, warmupN: Math.min(n, 1000) })
