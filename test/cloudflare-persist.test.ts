// The Cloudflare adapter over storage that outlives the runtime: Miniflare (workerd) with a persist
// directory, disposed and started again. Runs in the node project because it starts workerd itself.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, describe, expect, it } from 'vitest'
import {
  bundleWorker,
  killWorkerd,
  startCollector,
  startWorkerd,
  until,
  type Workerd,
} from './chaos/_workerd.js'

const root = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'tidings-persist-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The test Worker of test/workers, bundled as wrangler would (cloudflare:* left to workerd). */
const bundle = async () =>
  (
    await build({
      entryPoints: [join(root, 'test/workers/worker.ts')],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      conditions: ['workerd', 'worker', 'browser'],
      external: ['cloudflare:*', 'node:*'],
      target: 'es2022',
      logLevel: 'silent',
    })
  ).outputFiles[0]!.text

const start = (script: string) =>
  new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2026-04-20',
    compatibilityFlags: ['nodejs_compat'],
    durableObjects: {
      BUS: { className: 'TestBus', useSQLite: true },
      STORE_HOST: { className: 'StoreHost', useSQLite: true },
    },
    queueProducers: { DELIVERY: { queueName: 'tidings-delivery' } },
    queueConsumers: {
      'tidings-delivery': { maxBatchTimeout: 0, maxRetries: 1, deadLetterQueue: 'tidings-dlq' },
      'tidings-dlq': { maxBatchTimeout: 0 },
    },
    durableObjectsPersist: dir,
  })

const api =
  (mf: Miniflare) =>
  async (
    path: string,
    init?: { method?: string; body?: unknown; headers?: Record<string, string> },
  ) => {
    const res = await mf.dispatchFetch(`http://tidings${path}`, {
      method: init?.method ?? 'GET',
      headers: { 'content-type': 'application/json', ...init?.headers },
      ...(init?.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    })
    return { status: res.status, body: (await res.json()) as any }
  }

describe('BusObject restarted over persisted storage', () => {
  it(
    'loses nothing: events, dedup, delayed events, schedules, dead letters',
    { timeout: 60_000 },
    async () => {
      const script = await bundle()
      let mf = start(script)
      let call = api(mf)
      const first = await call('/events', {
        method: 'POST',
        body: { type: 'cart.added', data: { sku: 'A' }, key: 'c1' },
        headers: { 'idempotency-key': 'req-1' },
      })
      expect(first.status).toBe(200)
      await call('/events', {
        method: 'POST',
        body: [
          { type: 'cart.added', data: { sku: 'B' }, key: 'c1' },
          { type: 'cart.added', data: { sku: 'C' }, key: 'c2' },
        ],
      })
      const delayed = (await call('/fixture/delayed?ms=1500')).body
      const schedules = (await call('/fixture/schedule')).body
      expect(schedules).toHaveLength(1)
      // A job that fails three times: a dead letter written by the object.
      await call('/events', { method: 'POST', body: { type: 'job.run', data: {} } })
      let dead: any[] = []
      for (const end = Date.now() + 20_000; Date.now() < end && !dead.length;) {
        dead = (await call('/dead-letters')).body
        await new Promise((r) => setTimeout(r, 25))
      }
      expect(dead).toHaveLength(1)
      await mf.dispose()

      mf = start(script)
      call = api(mf)
      const read = await call('/events?limit=100')
      expect(
        read.body.events
          .filter((e: any) => e.type === 'cart.added')
          .map((e: any) => e.data.sku)
          .sort(),
      ).toEqual(['A', 'B', 'C'])
      const again = await call('/events', {
        method: 'POST',
        body: { type: 'cart.added', data: { sku: 'A' }, key: 'c1' },
        headers: { 'idempotency-key': 'req-1' },
      })
      expect(again.body).toEqual({ ...first.body, duplicate: true, cursor: expect.any(String) })
      expect((await call('/dead-letters')).body.map((d: any) => d.id)).toEqual(
        dead.map((d) => d.id),
      )
      expect((await call('/schedules')).body).toEqual(schedules)
      // The delayed event was held in storage: it is appended when due, once, whether that fell
      // before the restart or after it (a loaded machine decides which; the test does not).
      let late: any[] = []
      for (const end = Date.now() + 20_000; Date.now() < end && !late.length;) {
        late = (await call('/events?limit=100')).body.events.filter(
          (e: any) => e.type === 'reminder.due',
        )
        await new Promise((r) => setTimeout(r, 25))
      }
      expect(late.map((e: any) => [e.id, e.type])).toEqual([[delayed.id, 'reminder.due']])
      await mf.dispose()
    },
  )
})

describe('BusObject SIGKILLed mid-delivery and restarted on the same directory', () => {
  const collectors: { close(): Promise<void> }[] = []
  const running: Workerd[] = []
  afterAll(async () => {
    for (const w of running) await killWorkerd(w)
    for (const c of collectors) await c.close()
  })
  const fresh = () => mkdtempSync(join(dir, 'kill-'))

  it(
    're-sends what its previous incarnation had out as soon as its alarm wakes it, not at the lease (1 h here)',
    { timeout: 120_000 },
    async () => {
      const script = await bundleWorker()
      const at = fresh()
      // The first delivery's handler never returns: workerd is killed while it runs.
      const collector = await startCollector((h) => (h.attempt === 1 ? 'hold' : 200))
      collectors.push(collector)
      let w = await startWorkerd(script, at, { COLLECTOR: collector.url })
      running.push(w)
      expect(
        (
          await w.api('/events', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'recover.me', data: {}, key: 'r1' }),
          })
        ).status,
      ).toBe(200)
      await until(() => collector.seen.some((h) => h.what === 'recover'), 'the first delivery')
      await killWorkerd(w)
      w = await startWorkerd(script, at, { COLLECTOR: collector.url })
      running.push(w)
      // No request reaches the Worker: only the object's alarm can wake it. The lease is an hour, so
      // a second delivery now can only come from the restart knowing the first is no longer running.
      const runs = await until(() => {
        const r = collector.seen.filter((h) => h.what === 'recover')
        return r.length === 2 ? r : undefined
      }, 'the redelivery')
      expect(runs.map((h) => [h.type, h.attempt])).toEqual([
        ['recover.me', 1],
        ['recover.me', 2],
      ])
      const stats = await until(
        async () =>
          ((await (await w.api('/stats')).json()) as { subscriptions: any[] }).subscriptions.find(
            (s) => s.name === 'recover' && s.inFlight === 0 && s.lag === 0,
          ),
        'the ack',
      )
      expect(stats.deadLetters).toBe(0)
      await killWorkerd(w)
    },
  )

  it(
    'a poison event that kills its runtime every time is dead-lettered after retry.attempts deliveries, saying the runtime died',
    { timeout: 120_000 },
    async () => {
      const script = await bundleWorker()
      const at = fresh()
      let kill = 0
      // Whenever the poison's handler starts, the harness kills workerd (the isolate dies with it).
      const collector = await startCollector((h) => {
        if (h.what === 'crash') kill++
        return 'hold'
      })
      collectors.push(collector)
      let w = await startWorkerd(script, at, { COLLECTOR: collector.url })
      running.push(w)
      const { id } = (await (
        await w.api('/events', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'crash.poison', data: {} }),
        })
      ).json()) as { id: string }
      // The 'crash' subscription allows 2 attempts: two deliveries, two kills, then a dead letter.
      for (let killed = 0; killed < 2; killed++) {
        await until(() => kill > killed, `delivery ${killed + 1}`)
        await killWorkerd(w)
        w = await startWorkerd(script, at, { COLLECTOR: collector.url })
        running.push(w)
      }
      const [dead] = await until(async () => {
        const d = (await (await w.api('/dead-letters')).json()) as any[]
        return d.length ? d : undefined
      }, 'the dead letter')
      expect(dead).toMatchObject({
        subscription: 'crash',
        attempts: 2,
        event: { id },
        error: { name: 'RuntimeDied' },
      })
      expect(dead.error.message).toMatch(/runtime running attempt 2 .* died/)
      expect(collector.seen.filter((h) => h.what === 'crash').map((h) => h.attempt)).toEqual([1, 2])
      await killWorkerd(w)
    },
  )
})
