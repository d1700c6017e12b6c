// Fault injection in the browser (issue 13): Debian's Chromium driven from Node through
// playwright-core, over real IndexedDB, BroadcastChannel and Web Locks. Every handling is recorded
// outside the browser (a binding into this process) the moment the handler runs, so a kill cannot
// take the evidence with it. Four scenarios:
//   a. Chromium on a persistent profile SIGKILLed (its whole process group) and relaunched
//      mid-stream while a page publishes and a durable subscription handles;
//   b. two tabs running one durable subscription, the running tab closed mid-handler;
//   c. three tabs publishing bursts at once, every tab's live listener counted;
//   d. the bridge to a real busApp through network flaps, lost responses and page reloads.
// Small scale in `npm test`; `npm run chaos` (CHAOS=full) runs them at full scale. CHAOS_SEED
// replays a run's faults (the browser's own timing still varies).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { serverLog, setKnobs, startServer, stopServer } from '../browser/_server.js'
import { CHAOS_FULL, chaosSeed, prng, report, type ChaosFigures } from './_figures.js'

const root = join(import.meta.dirname, '../..')
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]
const scale = <T>(small: T, full: T) => (CHAOS_FULL ? full : small)

// What each page runs: tidings and a few helpers the scenarios call through page.evaluate.
const HARNESS = `
import * as core from './src/index.ts'
import * as idb from './adapters/indexeddb/index.ts'
const t = { ...core, ...idb }
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
window.chaos = {
  /** A bus over the store \`name\`; with \`handle\`, a durable subscription run in one tab at a time. */
  async open(name, handle) {
    const store = t.indexedDBStore({ name })
    const bus = t.createBus({ store })
    window.bus = bus
    window.seen = []
    window.beats = []
    bus.on('**', (e) => { window.seen.push(e.seq) })
    bus.on('heartbeat', (e) => { window.beats.push(e.id) })
    if (handle) {
      await t.crossTab(bus, store).subscribe('h', '**', async (e, ctx) => {
        await window.record({ id: e.id, seq: e.seq, key: e.key ?? '', attempt: ctx.attempt })
        if (handle.pause) await sleep(handle.pause)
      }, { from: 'earliest', concurrency: 4 })
    }
    await bus.idle()
  },
  async publish(items, oneByOne) {
    if (!oneByOne) return void await Promise.all(items.map((i) => window.bus.publish('chaos.ev', { n: i.n }, { id: i.id, key: i.key })))
    for (const i of items) await window.bus.publish('chaos.ev', { n: i.n }, { id: i.id, key: i.key })
  },
  /** The whole log: ids, seqs and keys, in seq order. */
  async log() {
    const out = []
    for (let from; ;) {
      const page = await window.bus.read({ limit: 1000, ...(from ? { from } : {}) })
      for (const e of page.events) out.push({ id: e.id, seq: e.seq, key: e.key ?? '' })
      if (page.events.length < 1000) return out
      from = page.next
    }
  },
  async bridged(name, url, token) {
    const store = t.indexedDBStore({ name })
    const bus = t.createBus({ store })
    window.bus = bus
    window.bridge = t.bridge(bus, { store, url, token, forward: 'chaos.**', backoff: { initial: 20, max: 200 } })
    await window.bridge.ready
  },
  pending: () => window.bridge.status.pending,
  /** Every tab registers the same schedule, as the same app code would at boot. */
  beat: (every) => window.bus.schedule('beat', { every, type: 'heartbeat', data: {} }),
  unbeat: () => window.bus.unschedule('beat'),
  beats: () => window.beats,
  async logBeats() { return (await window.bus.read({ pattern: 'heartbeat', limit: 1000 })).events.map((e) => e.id) },
}
`

let script: string
let pageServer: Server
let origin: string
beforeAll(async () => {
  script = (
    await build({
      stdin: { contents: HARNESS, resolveDir: root, loader: 'ts' },
      bundle: true,
      format: 'esm',
      write: false,
      logLevel: 'error',
    })
  ).outputFiles[0]!.text
  pageServer = createServer((req, res) => {
    if (req.url === '/page.js')
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script)
    else
      res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<!doctype html><script type="module" src="/page.js"></script>')
  })
  await new Promise<void>((ok) => pageServer.listen(0, '127.0.0.1', ok))
  origin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`
}, 60_000)
afterAll(() => {
  pageServer?.close()
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const until = async (ok: () => boolean | Promise<boolean>, what: () => string, ms: number) => {
  for (const end = Date.now() + ms; !(await ok());) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what()}`)
    await sleep(50)
  }
}
type Chaos = {
  open(name: string, handle?: { pause?: number }): Promise<void>
  publish(items: Item[], oneByOne?: boolean): Promise<void>
  log(): Promise<Logged[]>
  bridged(name: string, url: string, token: string): Promise<void>
  pending(): number
  beat(every: number): Promise<void>
  unbeat(): Promise<boolean>
  beats(): string[]
  logBeats(): Promise<string[]>
}
type Item = { id: string; n: number; key: string }
type Logged = { id: string; seq: number; key: string }
type Handling = Logged & { attempt: number; epoch: number }
const chaos = (page: Page) => ({
  open: (name: string, handle?: { pause?: number }) =>
    page.evaluate(([n, h]) => (window as unknown as { chaos: Chaos }).chaos.open(n, h), [
      name,
      handle,
    ] as const),
  publish: (items: Item[], oneByOne = false) =>
    page.evaluate(([i, o]) => (window as unknown as { chaos: Chaos }).chaos.publish(i, o), [
      items,
      oneByOne,
    ] as const),
  log: () => page.evaluate(() => (window as unknown as { chaos: Chaos }).chaos.log()),
  seen: () => page.evaluate(() => (window as unknown as { seen: number[] }).seen),
  bridged: (name: string, url: string, token: string) =>
    page.evaluate(([n, u, t]) => (window as unknown as { chaos: Chaos }).chaos.bridged(n, u, t), [
      name,
      url,
      token,
    ] as const),
  pending: () => page.evaluate(() => (window as unknown as { chaos: Chaos }).chaos.pending()),
  beat: (every: number) =>
    page.evaluate((e) => (window as unknown as { chaos: Chaos }).chaos.beat(e), every),
  unbeat: () => page.evaluate(() => (window as unknown as { chaos: Chaos }).chaos.unbeat()),
  beats: () => page.evaluate(() => (window as unknown as { chaos: Chaos }).chaos.beats()),
  logBeats: () => page.evaluate(() => (window as unknown as { chaos: Chaos }).chaos.logBeats()),
})
const ready = async (page: Page) => {
  await page.goto(`${origin}/`)
  await page.waitForFunction(() => 'chaos' in window, null, { timeout: 20_000 })
  return chaos(page)
}
const items = (from: number, to: number, keys: number): Item[] =>
  Array.from({ length: to - from }, (_, k) => ({
    id: `ev-${from + k}`,
    n: from + k,
    key: `k${(from + k) % keys}`,
  }))

/**
 * The figures of a durable subscription's handlings against the ids whose publish resolved and
 * the log. `epoch` names the runtime that handled (a browser launch, a tab): a second handling is
 * explained when it ran in another runtime and the first one's was killed or closed.
 */
const figuresOf = (
  published: Set<string>,
  log: Logged[],
  handlings: Handling[],
  ended: Set<number>,
) => {
  const inLog = new Set(log.map((e) => e.id))
  const first = new Map<string, Handling>()
  let explained = 0
  let unexplained = 0
  for (const h of handlings) {
    const f = first.get(h.id)
    if (!f) {
      first.set(h.id, h)
      continue
    }
    if (h.epoch !== f.epoch && ended.has(f.epoch)) explained++
    else unexplained++
    first.set(h.id, h) // a third handling is judged against the second
  }
  // Per key: a handling of an earlier seq after a later one ran (a rerun of the same seq is not).
  let violations = 0
  const last = new Map<string, number>()
  for (const h of handlings) {
    if ((last.get(h.key) ?? 0) > h.seq) violations++
    last.set(h.key, Math.max(last.get(h.key) ?? 0, h.seq))
  }
  return {
    lost: [...published].filter((id) => !inLog.has(id)).length,
    undelivered: [...published].filter((id) => !first.has(id)).length,
    duplicatesExplained: explained,
    duplicatesUnexplained: unexplained,
    orderViolations: violations,
  }
}

const row = (f: Omit<ChaosFigures, 'poisonInjected' | 'poisonDeadLettered'>): ChaosFigures => {
  const full = { ...f, poisonInjected: 0, poisonDeadLettered: 0 }
  report(full)
  return full
}
const expectClean = (f: ChaosFigures) => {
  expect({
    lost: f.lost,
    undelivered: f.undelivered,
    unexplained: f.duplicatesUnexplained,
    violations: f.orderViolations,
  }).toEqual({ lost: 0, undelivered: 0, unexplained: 0, violations: 0 })
}

/** Chromium started by hand in a process group of its own, so a SIGKILL takes every process of it. */
interface Running {
  proc: ChildProcess
  browser: Browser
  context: BrowserContext
}
const launch = async (profile: string): Promise<Running> => {
  const proc = spawn(
    '/usr/bin/chromium',
    [...ARGS, `--user-data-dir=${profile}`, '--remote-debugging-port=0', 'about:blank'],
    { detached: true, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  const ws = await new Promise<string>((resolve, reject) => {
    let err = ''
    const timer = setTimeout(
      () => reject(new Error(`chromium did not start in 30 s: ${err}`)),
      30_000,
    )
    proc.stderr!.on('data', (d: Buffer) => {
      err += d
      const m = /DevTools listening on (ws:\/\/\S+)/.exec(err)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    proc.once('exit', () => {
      clearTimeout(timer)
      reject(new Error(`chromium exited: ${err}`))
    })
  })
  const browser = await chromium.connectOverCDP(ws)
  return { proc, browser, context: browser.contexts()[0]! }
}
const sigkill = async (r: Running) => {
  const gone = new Promise((ok) => r.proc.once('exit', ok))
  try {
    process.kill(-r.proc.pid!, 'SIGKILL')
  } catch {
    /* already gone */
  }
  await gone
  await r.browser.close().catch(() => {})
}

describe('browser fault injection', () => {
  it(
    'a: Chromium SIGKILLed and relaunched mid-stream on a persistent profile',
    // Relaunching Chromium takes seconds on a loaded machine: the waits are generous, not thresholds.
    { timeout: scale(240_000, 900_000) },
    async () => {
      const seed = chaosSeed()
      const rng = prng(seed)
      const N = scale(200, 1200)
      const KILLS = scale(2, 6)
      const BATCH = 20
      const KEYS = 10
      const profile = mkdtempSync(join(tmpdir(), 'tidings-chaos-a-'))
      const published = new Set<string>()
      const handlings: Handling[] = []
      const handled = new Set<string>()
      const ended = new Set<number>()
      let epoch = 0
      // Kills fall on random batches, spread over the stream, each at a random moment inside it.
      const killAt = new Set<number>()
      while (killAt.size < KILLS) killAt.add(1 + Math.floor(rng() * (N / BATCH - 1)))
      let running: Running | undefined
      let page: ReturnType<typeof chaos> | undefined
      const start = async () => {
        running = await launch(profile)
        const at = epoch
        await running.context.exposeBinding('record', (_src, h: Omit<Handling, 'epoch'>) => {
          handlings.push({ ...h, epoch: at })
          handled.add(h.id)
        })
        page = await ready(await running.context.newPage())
        await page.open('chaos-a', { pause: 1 })
      }
      try {
        await start()
        for (let b = 0, from = 0; from < N; b++) {
          const batch = items(from, Math.min(from + BATCH, N), KEYS)
          const killing = killAt.delete(b)
          const kill = killing
            ? sleep(rng() * 40).then(async () => {
                ended.add(epoch++)
                await sigkill(running!)
              })
            : undefined
          const ok = await page!.publish(batch).then(
            () => true,
            () => false,
          )
          await kill
          // A batch cut by the kill goes again with the same ids: a no-op for those that landed.
          if (ok) {
            for (const i of batch) published.add(i.id)
            from += batch.length
          }
          if (killing) await start()
        }
        await until(
          () => [...published].every((id) => handled.has(id)),
          () => `every published event handled (${handled.size} of ${published.size})`,
          scale(180_000, 300_000),
        )
        const f = row({
          scenario: 'browser: Chromium SIGKILLed mid-stream',
          seed,
          events: published.size,
          faults: KILLS,
          ...figuresOf(published, await page!.log(), handlings, ended),
        })
        expectClean(f)
        expect(published.size).toBe(N)
      } finally {
        if (running) await sigkill(running)
        rmSync(profile, { recursive: true, force: true })
      }
    },
  )

  describe('in one browser', () => {
    let browser: Browser
    beforeAll(async () => {
      browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ARGS,
      })
    }, 60_000)
    afterAll(async () => {
      await browser?.close()
    })

    it(
      'b: two tabs run one durable subscription; the running tab is closed mid-handler',
      { timeout: scale(60_000, 600_000) },
      async () => {
        const seed = chaosSeed()
        const rng = prng(seed)
        const N = scale(150, 600)
        const CLOSES = scale(3, 10)
        const context = await browser.newContext()
        const handlings: Handling[] = []
        const handled = new Set<string>()
        const tabId = new Map<Page, number>()
        const ended = new Set<number>()
        let closes = 0
        // The handlings after which the tab running them closes, before the handler returns.
        const closeAt = new Set<number>()
        while (closeAt.size < CLOSES) closeAt.add(5 + Math.floor(rng() * (N - 10)))
        const workers = new Set<Page>()
        const worker = async () => {
          const p = await context.newPage()
          workers.add(p)
          tabId.set(p, tabId.size)
          await (await ready(p)).open('chaos-b', { pause: 2 })
        }
        await context.exposeBinding('record', async ({ page }, h: Omit<Handling, 'epoch'>) => {
          handlings.push({ ...h, epoch: tabId.get(page)! })
          handled.add(h.id)
          if (!closeAt.delete(handlings.length)) return
          // The tab dies with this handler in flight; a fresh tab joins the line, so two stay.
          ended.add(tabId.get(page)!)
          closes++
          workers.delete(page)
          void page.close()
          void worker()
        })
        try {
          const publisher = await ready(await context.newPage())
          await publisher.open('chaos-b')
          await worker()
          await worker()
          const published = new Set<string>()
          for (let from = 0; from < N; from += 25) {
            const batch = items(from, Math.min(from + 25, N), 6)
            await publisher.publish(batch)
            for (const i of batch) published.add(i.id)
          }
          await until(
            () => [...published].every((id) => handled.has(id)),
            () => `every event handled (${handled.size} of ${N})`,
            scale(45_000, 300_000),
          )
          const f = row({
            scenario: 'browser: running tab closed mid-handler',
            seed,
            events: N,
            faults: closes,
            ...figuresOf(published, await publisher.log(), handlings, ended),
          })
          expectClean(f)
        } finally {
          await context.close()
        }
      },
    )

    it(
      "c: three tabs publish bursts of 40 at once (one commit, or one commit each); every tab's live listener sees every event once, in log order",
      { timeout: scale(60_000, 600_000) },
      async () => {
        const seed = chaosSeed()
        const ROUNDS = scale(4, 12)
        const BURST = 40
        const context = await browser.newContext()
        let lost = 0
        let undelivered = 0
        let twice = 0
        let violations = 0
        try {
          const pages = [await context.newPage(), await context.newPage(), await context.newPage()]
          const tabs = await Promise.all(pages.map(ready))
          for (let round = 0; round < ROUNDS; round++) {
            const name = `chaos-c-${round}`
            for (const t of tabs) await t.open(name)
            const total = BURST * tabs.length
            // Odd rounds commit each event on its own: 120 commits racing each tab's reads of the head.
            await Promise.all(
              tabs.map((t, i) =>
                t.publish(
                  items(0, BURST, 5).map((e) => ({ ...e, id: `t${i}-${e.id}` })),
                  round % 2 === 1,
                ),
              ),
            )
            // No later commit comes to the rescue: each tab must get there on the wake-ups it had.
            let seen: number[][] = []
            await until(
              async () =>
                (seen = await Promise.all(tabs.map((t) => t.seen()))).every(
                  (s) => s.length >= total,
                ),
              () =>
                `round ${round}: ${total} events in every tab (saw ${seen.map((s) => s.length).join('/')})`,
              30_000,
            ).catch(() => {})
            const log = await tabs[0]!.log()
            lost += total - log.length
            for (const s of seen) {
              undelivered += total - new Set(s).size
              twice += s.length - new Set(s).size
              violations += s.filter((seq, k) => k > 0 && seq <= s[k - 1]!).length
            }
          }
          const f = row({
            scenario: 'browser: three tabs publishing bursts',
            seed,
            events: ROUNDS * BURST * 3,
            faults: 0,
            lost,
            undelivered,
            duplicatesExplained: 0,
            duplicatesUnexplained: twice,
            orderViolations: violations,
          })
          expectClean(f)
        } finally {
          await context.close()
        }
      },
    )

    it(
      'c2: two tabs under load see every schedule tick (the "12 of 14 ticks" report)',
      { timeout: scale(60_000, 300_000) },
      async () => {
        const seed = chaosSeed()
        const TICKS = scale(14, 40)
        const EVERY = 150
        const context = await browser.newContext()
        try {
          const tabs = await Promise.all(
            [await context.newPage(), await context.newPage()].map(ready),
          )
          for (const t of tabs) await t.open('chaos-c2')
          for (const t of tabs) await t.beat(EVERY)
          // Both tabs commit one event at a time while the ticks land (on the real clock).
          let round = 0
          const load = async () => {
            const ticks = async () => (await tabs[0]!.logBeats()).length
            while ((await ticks()) < TICKS) {
              await Promise.all(
                tabs.map((t, i) =>
                  t.publish(
                    items(round * 20, round * 20 + 20, 3).map((e) => ({
                      ...e,
                      id: `t${i}-${e.id}`,
                    })),
                    true,
                  ),
                ),
              )
              round++
            }
          }
          await load()
          await tabs[0]!.unbeat()
          // One tick may still have been on its way: the log's ticks, once settled, are the reference.
          await sleep(EVERY * 2)
          const ticks = await tabs[0]!.logBeats()
          let beats: string[][] = []
          await until(
            async () =>
              (beats = await Promise.all(tabs.map((t) => t.beats()))).every(
                (b) => b.length >= ticks.length,
              ),
            () =>
              `both tabs to see ${ticks.length} ticks (saw ${beats.map((b) => b.length).join('/')})`,
            15_000,
          ).catch(() => {})
          const seen = await Promise.all(tabs.map((t) => t.seen()))
          const total = (await tabs[0]!.log()).length
          const f = row({
            scenario: 'browser: two tabs, schedule ticks under load',
            seed,
            events: total,
            faults: 0,
            lost: 0,
            undelivered:
              beats.reduce((n, b) => n + ticks.filter((id) => !b.includes(id)).length, 0) +
              seen.reduce((n, s) => n + total - new Set(s).size, 0),
            duplicatesExplained: 0,
            duplicatesUnexplained: beats.reduce((n, b) => n + b.length - new Set(b).size, 0),
            orderViolations: seen.reduce(
              (n, s) => n + s.filter((seq, k) => k > 0 && seq <= s[k - 1]!).length,
              0,
            ),
          })
          expect(ticks.length).toBeGreaterThanOrEqual(TICKS)
          expect(new Set(ticks).size).toBe(ticks.length) // each tick fired once across the tabs
          expectClean(f)
        } finally {
          await context.close()
        }
      },
    )

    it(
      'd: the bridge through network flaps, lost responses and reloads',
      { timeout: scale(60_000, 600_000) },
      async () => {
        const seed = chaosSeed()
        const rng = prng(seed)
        const FAULTS = scale(12, 60)
        const PER = 10 // events published between faults
        const TOKEN = 'chaos-token'
        const server = await startServer(TOKEN)
        const context = await browser.newContext()
        const counts = { flap: 0, lost: 0, reload: 0 }
        try {
          const p = await context.newPage()
          let page = await ready(p)
          await page.bridged('chaos-d', server.url, TOKEN)
          const published = new Set<string>()
          const local: Logged[] = []
          let next = 0
          const publish = async () => {
            const batch = items(next, next + PER, 4)
            // A publish cut by a reload is retried with the same ids.
            for (;;) {
              if (
                await page.publish(batch).then(
                  () => true,
                  () => false,
                )
              )
                break
              page = await ready(p)
              await page.bridged('chaos-d', server.url, TOKEN)
            }
            for (const i of batch) published.add(i.id)
            next += PER
          }
          for (let k = 0; k < FAULTS; k++) {
            await publish()
            const r = rng()
            if (r < 0.4) {
              counts.flap++
              await context.route(`${server.url}/**`, (route) =>
                route.abort('internetdisconnected'),
              )
              await publish() // published while the network is down
              await sleep(20 + rng() * 200)
              await context.unroute(`${server.url}/**`)
            } else if (r < 0.7) {
              counts.lost++
              setKnobs(server.id, { dropResponses: 1 + Math.floor(rng() * 3) })
              await publish()
            } else {
              counts.reload++
              await sleep(rng() * 50)
              page = await ready(p) // a reload mid-send
              await page.bridged('chaos-d', server.url, TOKEN)
            }
          }
          setKnobs(server.id, { dropResponses: 0 })
          await until(
            async () =>
              (await serverLog(server.id)).events.length >= published.size &&
              (await page.pending()) === 0,
            () => `the server to hold all ${published.size}`,
            scale(45_000, 300_000),
          ).catch(() => {})
          local.push(...(await page.log()))
          const remote = await serverLog(server.id)
          const at = new Set(remote.events.map((e) => e.id))
          // Per key, the server must hold the events in the local log's order.
          const seqOf = new Map(local.map((e) => [e.id, e.seq]))
          let violations = 0
          const last = new Map<string, number>()
          for (const e of remote.events) {
            const s = seqOf.get(e.id) ?? 0
            if ((last.get(e.key ?? '') ?? 0) > s) violations++
            last.set(e.key ?? '', Math.max(last.get(e.key ?? '') ?? 0, s))
          }
          const f = row({
            scenario: 'browser: bridge through flaps, lost responses, reloads',
            seed,
            events: published.size,
            faults: FAULTS,
            lost: [...published].filter((id) => !local.some((e) => e.id === id)).length,
            undelivered: [...published].filter((id) => !at.has(id)).length,
            // Resends after a lost response reach the server, which stores each id once.
            duplicatesExplained: 0,
            duplicatesUnexplained: remote.events.length - at.size,
            orderViolations: violations,
          })
          console.log(
            `CHAOS bridge faults: ${JSON.stringify(counts)}; ids sent ${remote.sentIds.length} for ${at.size} stored (resends deduplicated by id)`,
          )
          expectClean(f)
        } finally {
          await context.close()
          await stopServer(server.id)
        }
      },
    )
  })
})
