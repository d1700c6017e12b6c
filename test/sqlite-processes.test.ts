// Several Node processes over one SQLite file (test/fixtures/sqlite-child.ts, bundled here):
// - crash: a process publishing and handling is SIGKILLed at seeded random moments and restarted,
//   several rounds; nothing accepted is lost, nothing acknowledged is handled again, per-key order holds;
// - two processes publishing at once with one durable subscription: each event handled exactly once.
// "Acknowledged" is what the database says: an id in the subscription's consumer ledger (the
// `l/<subscription>/` records the bus writes in the commit that acks), read by this process while no
// child runs. The handler's side file is written before it returns, so before its ack: a kill between
// the two makes an explained second handling, and only that.
import Database from 'better-sqlite3'
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sqliteStore } from '../adapters/sqlite/index.js'
import { createBus } from '../src/index.js'
import { PREFIX } from '../src/store/keys.js'
import { chaosSeed, prng } from './chaos/_figures.js'

const root = join(import.meta.dirname, '..')
const temp = mkdtempSync(join(tmpdir(), 'tidings-sqlite-processes-'))
const child = join(temp, 'child.mjs')
afterAll(() => rmSync(temp, { recursive: true, force: true }))
beforeAll(async () => {
  await build({
    entryPoints: [join(root, 'test/fixtures/sqlite-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: child,
    logLevel: 'silent',
    external: ['better-sqlite3'],
  })
}, 60_000)

const SUBSCRIPTION = 'worker'
let dirs = 0
const freshDir = () => {
  const d = mkdtempSync(join(temp, `run-${dirs++}-`))
  return { dir: d, database: join(d, 'bus.db') }
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

interface Child {
  process: ChildProcess
  said(line: string): Promise<void>
  saidYet(line: string): boolean
  exited: Promise<unknown>
}
const start = (
  database: string,
  dir: string,
  run: string,
  publishes: number,
  lease: number,
): Child => {
  const proc = spawn(
    process.execPath,
    [child, root, database, dir, run, String(publishes), String(lease)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let out = ''
  const waiting: { line: string; resolve: () => void }[] = []
  proc.stdout!.on('data', (chunk: Buffer) => {
    out += chunk
    for (const w of [...waiting])
      if (out.split('\n').includes(w.line)) {
        waiting.splice(waiting.indexOf(w), 1)
        w.resolve()
      }
  })
  let err = ''
  proc.stderr!.on('data', (chunk: Buffer) => {
    err += chunk
  })
  const exited = new Promise((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, err })),
  )
  return {
    process: proc,
    exited,
    saidYet: (line) => out.split('\n').includes(line),
    said: (line) =>
      out.split('\n').includes(line)
        ? Promise.resolve()
        : new Promise((resolve, reject) => {
            waiting.push({ line, resolve })
            void exited.then((how) =>
              reject(
                new Error(`child ${run} exited before saying ${line}: ${JSON.stringify(how)}`),
              ),
            )
          }),
  }
}

/** The side file's complete lines (a kill never tears one: each is one write). */
const lines = (dir: string, name: string) =>
  existsSync(join(dir, name))
    ? readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean)
    : []
const handlings = (dir: string) =>
  lines(dir, 'handled').map((l) => {
    const [run = '', id = '', seq = '', key = ''] = l.split(' ')
    return { run, id, seq: Number(seq), key }
  })
/** The ids the subscription's ledger holds: what the database says was acknowledged. */
const acknowledged = async (database: string): Promise<Set<string>> => {
  const db = new Database(database)
  try {
    const entries = await sqliteStore(db).list({ prefix: `l/${SUBSCRIPTION}/` })
    return new Set(entries.flatMap((e) => (e.value as { ids: string[] }).ids))
  } finally {
    db.close()
  }
}
/** Waits (polling the file; bounded by the test's timeout) until every accepted id is acknowledged. */
const allAcknowledged = async (database: string, dir: string) => {
  for (;;) {
    const acked = await acknowledged(database)
    if (lines(dir, 'accepted').every((id) => acked.has(id))) return acked
    await sleep(50)
  }
}

describe('sqliteStore across processes', () => {
  it('crash: SIGKILLed at random moments and restarted, nothing accepted is lost, nothing acknowledged handled again, per-key order holds', async () => {
    const seed = chaosSeed()
    console.log(`sqlite crash seed ${seed} (CHAOS_SEED=${seed} replays the kill moments)`)
    const random = prng(seed)
    const { dir, database } = freshDir()
    const ROUNDS = 5,
      LEASE = 300
    const ackedBefore: Set<string>[] = [] // ackedBefore[r]: acknowledged when run r started
    let interrupted = 0
    for (let run = 0; run < ROUNDS; run++) {
      ackedBefore[run] = await acknowledged(database)
      const c = start(database, dir, String(run), 40, LEASE)
      await c.said('ready')
      // A seeded moment: mid-publish, mid-handling, mid-commit, or after idle.
      await sleep(Math.floor(random() * 400))
      if (!c.saidYet('idle')) interrupted++
      c.process.kill('SIGKILL')
      await c.exited
    }
    ackedBefore[ROUNDS] = await acknowledged(database)
    const last = start(database, dir, String(ROUNDS), 0, LEASE)
    await last.said('ready')
    const acked = await allAcknowledged(database, dir)
    last.process.kill('SIGTERM')
    await last.exited

    const accepted = lines(dir, 'accepted')
    const handled = handlings(dir)
    expect(accepted.length).toBeGreaterThan(0)
    // Nothing accepted is lost: every stored publish was handled and acknowledged.
    expect(accepted.filter((id) => !acked.has(id))).toEqual([])
    expect(accepted.filter((id) => !handled.some((h) => h.id === id))).toEqual([])
    // Nothing acknowledged is handled again: a run handles no id acknowledged before it started.
    expect(handled.filter((h) => ackedBefore[Number(h.run)]!.has(h.id))).toEqual([])
    // Within one run (no failures, no retries) no event is handled twice.
    const perRun = new Set<string>()
    expect(handled.filter((h) => perRun.size === perRun.add(`${h.run} ${h.id}`).size)).toEqual([])
    // Per-key order: each key's events are handled in seq order (a redelivery repeats the last one).
    const lastSeq = new Map<string, number>()
    const outOfOrder = handled.filter((h) => {
      const before = lastSeq.get(h.key) ?? -1
      lastSeq.set(h.key, Math.max(before, h.seq))
      return h.seq < before
    })
    expect(outOfOrder).toEqual([])
    const again = handled.length - new Set(handled.map((h) => h.id)).size
    console.log(
      `sqlite crash: ${ROUNDS} kills (${interrupted} mid-work), ${accepted.length} accepted, ${handled.length} handlings, ${again} handled again after a kill before their ack`,
    )
  }, 60_000)

  it('two processes publishing at once over one file, one durable subscription: each event handled exactly once', async () => {
    const { dir, database } = freshDir()
    const a = start(database, dir, 'a', 60, 30_000)
    const b = start(database, dir, 'b', 60, 30_000)
    await Promise.all([a.said('idle'), b.said('idle')])
    expect(lines(dir, 'accepted').length).toBe(120)
    await allAcknowledged(database, dir)
    a.process.kill('SIGTERM')
    b.process.kill('SIGTERM')
    // A clean close releases the store's timers: both processes exit on their own.
    expect(await a.exited).toMatchObject({ code: 0 })
    expect(await b.exited).toMatchObject({ code: 0 })

    const ids = handlings(dir).map((h) => h.id)
    expect(ids.length).toBe(120)
    expect(new Set(ids).size).toBe(120)
    // And the database agrees: a bus attaching the subscription again finds nothing left to handle.
    const db = new Database(database)
    const store = sqliteStore(db)
    const bus = createBus({ store })
    let more = 0
    await bus.subscribe(SUBSCRIPTION, 'job.*', () => {
      more++
    })
    await bus.idle()
    expect(more).toBe(0)
    // The two writers never gave out one seq: 120 events, seqs 1..120, in segments of many.
    const events = (await bus.read({ limit: 1000 })).events
    expect(events.map((e) => e.seq)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1))
    expect(new Set(events.map((e) => e.id)).size).toBe(120)
    expect((await store.list({ prefix: PREFIX.events })).length).toBeLessThan(120)
    await bus.close()
    await store.close()
    db.close()
  }, 60_000)
})
