// The Cloudflare adapter over storage that outlives the runtime: Miniflare (workerd) with a persist
// directory, disposed and started again. Runs in the node project because it starts workerd itself.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { build } from 'esbuild'
import { Miniflare } from 'miniflare'
import { afterAll, describe, expect, it } from 'vitest'

const root = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'tidings-persist-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

/** The test Worker of test/workers, bundled as wrangler would (cloudflare:* left to workerd). */
const bundle = async () => (await build({
  entryPoints: [join(root, 'test/workers/worker.ts')], bundle: true, write: false, format: 'esm', platform: 'browser',
  conditions: ['workerd', 'worker', 'browser'], external: ['cloudflare:*', 'node:*'], target: 'es2022', logLevel: 'silent',
})).outputFiles[0]!.text

const start = (script: string) => new Miniflare({
  modules: true, script, compatibilityDate: '2026-04-20', compatibilityFlags: ['nodejs_compat'],
  durableObjects: { BUS: { className: 'TestBus', useSQLite: true }, STORE_HOST: { className: 'StoreHost', useSQLite: true } },
  queueProducers: { DELIVERY: { queueName: 'tidings-delivery' } },
  queueConsumers: { 'tidings-delivery': { maxBatchTimeout: 0, maxRetries: 1, deadLetterQueue: 'tidings-dlq' }, 'tidings-dlq': { maxBatchTimeout: 0 } },
  durableObjectsPersist: dir,
})

const api = (mf: Miniflare) => async (path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }) => {
  const res = await mf.dispatchFetch(`http://tidings${path}`, {
    method: init?.method ?? 'GET', headers: { 'content-type': 'application/json', ...init?.headers },
    ...(init?.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  })
  return { status: res.status, body: (await res.json()) as any }
}

describe('BusObject restarted over persisted storage', () => {
  it('loses nothing: events, dedup, delayed events, schedules, dead letters', { timeout: 60_000 }, async () => {
    const script = await bundle()
    let mf = start(script)
    let call = api(mf)
    const first = await call('/events', { method: 'POST', body: { type: 'cart.added', data: { sku: 'A' }, key: 'c1' }, headers: { 'idempotency-key': 'req-1' } })
    expect(first.status).toBe(200)
    await call('/events', { method: 'POST', body: [{ type: 'cart.added', data: { sku: 'B' }, key: 'c1' }, { type: 'cart.added', data: { sku: 'C' }, key: 'c2' }] })
    const delayed = (await call('/fixture/delayed?ms=1500')).body
    const schedules = (await call('/fixture/schedule')).body
    expect(schedules).toHaveLength(1)
    // A job that fails three times: a dead letter written by the object.
    await call('/events', { method: 'POST', body: { type: 'job.run', data: {} } })
    let dead: any[] = []
    for (const end = Date.now() + 20_000; Date.now() < end && !dead.length;) { dead = (await call('/dead-letters')).body; await new Promise((r) => setTimeout(r, 25)) }
    expect(dead).toHaveLength(1)
    await mf.dispose()

    mf = start(script)
    call = api(mf)
    const read = await call('/events?limit=100')
    expect(read.body.events.filter((e: any) => e.type === 'cart.added').map((e: any) => e.data.sku).sort()).toEqual(['A', 'B', 'C'])
    const again = await call('/events', { method: 'POST', body: { type: 'cart.added', data: { sku: 'A' }, key: 'c1' }, headers: { 'idempotency-key': 'req-1' } })
    expect(again.body).toEqual({ ...first.body, duplicate: true, cursor: expect.any(String) })
    expect((await call('/dead-letters')).body.map((d: any) => d.id)).toEqual(dead.map((d) => d.id))
    expect((await call('/schedules')).body).toEqual(schedules)
    // The delayed event was held in storage: the restarted object appends it when due.
    let late: any[] = []
    // Polled with a deadline rather than a count: workerd on a loaded machine wakes late.
    for (const end = Date.now() + 20_000; Date.now() < end && !late.length;) {
      late = (await call(`/events?from=${read.body.next}`)).body.events
      await new Promise((r) => setTimeout(r, 25))
    }
    expect(late.map((e: any) => [e.id, e.type])).toEqual([[delayed.id, 'reminder.due']])
    await mf.dispose()
  })
})
