import { DurableObject } from 'cloudflare:workers'
import {
  BusObject,
  cloudflareBus,
  defineSubscriptions,
  type EdgeBatchContext,
} from '../../adapters/cloudflare/index.js'
import { busApp } from '../../adapters/hono/index.js'
import { NonRetriableError } from '../../src/errors.js'
import type { BusEvent, EventMap } from '../../src/event.js'
import { fromTagged, type Tagged } from '../../src/tagged.js'

export interface Env {
  BUS: DurableObjectNamespace<TestBus>
  STORE_HOST: DurableObjectNamespace<StoreHost>
  DELIVERY: Queue
  /** The fault-injection tests' collector on 127.0.0.1 (test/chaos/_workerd.ts): handlers report to it. */
  COLLECTOR?: string
  /** Set by the edge chaos test: the queue() wrapper duplicates and delays 'chaos' deliveries. */
  CHAOS_SEED?: string
}

/** Reports a handling to the collector, outside this runtime; a refusal is a failed attempt. */
const collect = async (
  env: Env,
  what: string,
  e: BusEvent,
  ctx: { attempt: number; signal: AbortSignal },
) => {
  const body = JSON.stringify({
    id: e.id,
    key: e.key,
    seq: e.seq,
    type: e.type,
    attempt: ctx.attempt,
  })
  const res = await fetch(`${env.COLLECTOR}/${what}`, { method: 'POST', body })
  if (!res.ok) throw new Error(`the collector answered ${res.status}`)
  // Done after the lease lapsed: the object will not take this outcome and sends the event again.
  if (ctx.signal.aborted) await fetch(`${env.COLLECTOR}/lapsed`, { method: 'POST', body })
}

/** Handlers of the 'job' subscription fail until a test heals them (module state of this Worker). */
export const faults = { healthy: false }

/** Copies of the delivery messages of 'once' and 'late' as the Queue gave them, for tests to deliver again. */
const stash: unknown[] = []

// Loaded by both sides: the object reads patterns and policies, the Worker's queue() the handlers.
export const subscriptions = defineSubscriptions<EventMap, Env>({
  audit: {
    pattern: 'order.*',
    concurrency: 10,
    handler: async (e, ctx) => {
      await ctx.publish('audit.done', { of: e.id, attempt: ctx.attempt }, { key: e.key ?? e.id })
    },
  },
  job: {
    pattern: 'job.*',
    retry: { attempts: 3, backoff: { initial: 20, jitter: false } },
    handler: async (e, ctx) => {
      if (!faults.healthy) throw new Error(`job ${e.id} failed on attempt ${ctx.attempt}`)
      await ctx.publish('done.job', { of: e.id })
    },
  },
  fatal: {
    pattern: 'fatal.*',
    handler: () => {
      throw new NonRetriableError('never works')
    },
  },
  // A handler's own error with a string code, as fetch libraries throw: it must stay what it was.
  coded: {
    pattern: 'coded.*',
    retry: { attempts: 1 },
    handler: () => {
      throw Object.assign(new Error('socket hang up'), { name: 'FetchError', code: 'ECONNRESET' })
    },
  },
  // The test Worker's queue() drops these unrun, as a lost transport would: they reach the DLQ.
  lossy: { pattern: 'lossy.*', timeout: 60_000, handler: () => {} },
  // Keyed: one in flight per key end to end; the handler records the order it saw.
  // Records each run as a new event (a fresh id: never deduplicated), so a second run shows.
  once: {
    pattern: 'once.*',
    concurrency: 4,
    handler: async (e, ctx) => {
      await ctx.publish(
        'seen.once',
        { n: (e.data as { n: number }).n },
        { key: e.key!, id: crypto.randomUUID() },
      )
    },
  },
  // Its messages are held back by the test Worker (a delayed delivery) for a test to hand in late.
  late: {
    pattern: 'late.*',
    timeout: 60_000,
    retry: { attempts: 2, backoff: { initial: 10, jitter: false } },
    handler: async (e, ctx) => {
      await ctx.publish('seen.late', { of: e.id }, { id: crypto.randomUUID() })
    },
  },
  // Reaches the Worker's bindings: publishes through env.BUS itself, and more after it returns.
  envy: {
    pattern: 'envy.*',
    handler: async (e, ctx) => {
      const bus = cloudflareBus(ctx.env.BUS, { shards: 3, name: (e.data as { bus: string }).bus })
      ctx.waitUntil(bus.publish('envy.later', { of: e.id }, { id: `later:${e.id}` }))
      await bus.publish('envy.seen', { of: e.id }, { id: `seen:${e.id}` })
    },
  },
  // The fault-injection tests (test/cloudflare-persist.test.ts, test/chaos/edge.test.ts): handlers
  // that report to the collector, which may hold them or have workerd killed while they run.
  recover: {
    pattern: 'recover.*',
    timeout: 3_600_000,
    handler: (e, ctx) => collect(ctx.env, 'recover', e, ctx),
  },
  crash: {
    pattern: 'crash.*',
    timeout: 3_600_000,
    retry: { attempts: 2, backoff: { initial: 10, jitter: false } },
    handler: (e, ctx) => collect(ctx.env, 'crash', e, ctx),
  },
  chaos: {
    pattern: 'chaos.*',
    concurrency: 8,
    timeout: 4_000,
    retry: { attempts: 10, backoff: { initial: 50, max: 1_000, jitter: false } },
    handler: (e, ctx) => collect(ctx.env, 'handled', e, ctx),
  },
  // Event versions: 'versioned.placed' is at version 2 in the object's bus; the handler records what it saw.
  versioned: {
    pattern: 'versioned.*',
    handler: async (e, ctx) => {
      await ctx.publish('seen.versioned', { version: e.version, data: e.data })
    },
  },
  // A batch subscription: the object batches, the Worker runs one handler call per Queue message
  // (or several merged); an event whose data says poison is marked failed alone.
  // Each call is recorded on one key, so the records keep the order of the calls.
  digest: {
    pattern: 'digest.*',
    batch: { size: 10, wait: 50 },
    retry: { attempts: 2, backoff: { initial: 10, jitter: false } },
    handler: async (events: BusEvent[], ctx: EdgeBatchContext<EventMap, Env>) => {
      for (const e of events)
        if ((e.data as { poison?: boolean }).poison) ctx.fail(e, new Error(`poison ${e.id}`))
      await ctx.publish(
        'seen.digest',
        { ids: events.map((e) => e.id), attempt: ctx.attempt },
        { id: crypto.randomUUID(), key: 'digest' },
      )
    },
  },
  // A batch subscription whose Queue messages the test Worker holds back (acked unrun, kept in its
  // stash), so that tests hand them in themselves: together, twice, late, or after a "dead" Worker
  // claimed them. Each call is recorded on one key, so the records keep the order of the calls.
  held: {
    pattern: 'held.*',
    batch: { size: 4 },
    concurrency: 2,
    timeout: 60_000,
    retry: { attempts: 3, backoff: { initial: 10, jitter: false } },
    handler: async (events: BusEvent[], ctx: EdgeBatchContext<EventMap, Env>) => {
      for (const e of events)
        if ((e.data as { poison?: boolean }).poison) ctx.fail(e, new Error(`poison ${e.id}`))
      await ctx.publish(
        'seen.held',
        { ids: events.map((e) => e.id), attempt: ctx.attempt },
        { id: crypto.randomUUID(), key: 'held' },
      )
    },
  },
  keyed: {
    pattern: 'seq.*',
    concurrency: 8,
    handler: async (e, ctx) => {
      await ctx.publish('seen.seq', { n: (e.data as { n: number }).n }, { key: e.key! })
    },
  },
})

/** The object's versions: `versioned.placed` went from `{ total }` (version 1) to `{ amount, currency }`. */
export const versions = {
  'versioned.placed': {
    current: 2,
    upcast: { 1: (v1: { total: number }) => ({ amount: v1.total, currency: 'EUR' }) },
  },
}

/** The bus object of the tests: a clock a test can move forward, and a small live-client bound. */
export class TestBus extends BusObject<Env> {
  #skew: { ms: number }
  constructor(ctx: DurableObjectState, env: Env) {
    const skew = { ms: 0 }
    super(ctx, env, {
      subscriptions,
      queue: env.DELIVERY,
      now: () => Date.now() + skew.ms,
      live: { maxUnacked: 20 },
      bus: { source: 'test', versions },
    })
    this.#skew = skew
    // The fault-injection tests count the object's starts (each one is a new incarnation).
    if (env.COLLECTOR)
      void fetch(`${env.COLLECTOR}/incarnation`, {
        method: 'POST',
        body: JSON.stringify({ id: ctx.id.toString() }),
      }).catch(() => {})
  }
  /** Moves this object's clock forward (the only thing the tests mock). */
  advance(ms: number): number {
    this.#skew.ms += ms
    return Date.now() + this.#skew.ms
  }
}

/** An empty SQLite object for the store conformance suite. */
export class StoreHost extends DurableObject {}

const bus = (env: Env) =>
  cloudflareBus(env.BUS, { shards: 3, subscriptions, deadLetterQueue: 'tidings-dlq' })

export default {
  async fetch(request, env) {
    const url = new URL(request.url)
    if (url.pathname === '/fixture/stash') return Response.json(stash)
    if (url.pathname === '/heal') {
      faults.healthy = url.searchParams.get('healthy') !== 'false'
      return new Response('ok')
    }
    // Fixtures the HTTP app has no route for: a delayed publish and a schedule.
    if (url.pathname === '/fixture/delayed')
      return Response.json(
        await bus(env).publish(
          'reminder.due',
          { n: 1 },
          { delay: Number(url.searchParams.get('ms')) },
        ),
      )
    if (url.pathname === '/fixture/schedule') {
      await bus(env).schedule('nightly', {
        cron: '0 2 * * *',
        timezone: 'Europe/Paris',
        type: 'report.due',
        data: {},
      })
      return Response.json(await bus(env).schedules())
    }
    // The HTTP app of tidings/hono over the sharded bus (open: a test Worker).
    return busApp({ bus: bus(env), auth: false }).fetch(request)
  },
  async queue(batch, env, ctx) {
    if (env.CHAOS_SEED && batch.queue === 'tidings-delivery') return chaosQueue(batch, env, ctx)
    // Simulated transport loss for the 'lossy' subscription: never run, retried into the DLQ.
    if (batch.queue === 'tidings-delivery') {
      const sub = (m: Message) => (m.body as { subscription?: string }).subscription
      for (const m of batch.messages) if (sub(m) === 'lossy') m.retry()
      const held = (m: Message) => sub(m) === 'late' || sub(m) === 'held'
      for (const m of batch.messages) if (sub(m) === 'once' || held(m)) stash.push(m.body)
      // 'late' and 'held' deliveries are held back (acked unrun): a test delivers them itself.
      for (const m of batch.messages) if (held(m)) m.ack()
      const rest = batch.messages.filter((m) => sub(m) !== 'lossy' && !held(m))
      return bus(env).queue({ ...batch, messages: rest }, env, ctx)
    }
    return bus(env).queue(batch, env, ctx)
  },
  async scheduled(controller, env) {
    await bus(env).scheduled(controller)
  },
} satisfies ExportedHandler<Env>

/** A seeded hash of a delivery: the same seed injects the same faults into the same deliveries. */
const roll = (seed: string, delivery: string) => {
  let h = 2166136261
  for (const c of `${seed}/${delivery}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619)
  return (h >>> 0) % 100
}

/** A message the wrapper hands in again: acks and retries go nowhere, as on a redelivery that is lost. */
const copy = (m: Message, id: string): Message =>
  ({ id, timestamp: m.timestamp, body: m.body, attempts: 1, ack() {}, retry() {} }) as Message

/**
 * The edge chaos test's wrapper around queue(): of the 'chaos' deliveries, some are delivered twice
 * in the same batch, some again after they were handled, and some held back until their lease has
 * lapsed, then delivered. Each injection is reported to the collector.
 */
const chaosQueue = async (batch: MessageBatch, env: Env, ctx: ExecutionContext) => {
  const now: Message[] = []
  const later: Promise<unknown>[] = []
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms))
  const note = (kind: string, m: Message) =>
    fetch(`${env.COLLECTOR}/injected`, {
      method: 'POST',
      body: JSON.stringify({ type: kind, id: (m.body as { delivery: string }).delivery }),
    }).catch(() => {})
  for (const m of batch.messages) {
    const body = m.body as { subscription?: string; delivery: string; deadline: number }
    const r = body.subscription === 'chaos' ? roll(env.CHAOS_SEED!, body.delivery) : 99
    if (r < 5) {
      now.push(m, copy(m, `${m.id}-twin`))
      await note('twin', m)
    } else if (r < 10) {
      now.push(m)
      await note('again', m)
      later.push(
        wait(300).then(() =>
          bus(env).queue({ ...batch, messages: [copy(m, `${m.id}-again`)] }, env, ctx),
        ),
      )
    } else if (r < 15) {
      m.ack()
      await note('late', m)
      later.push(
        wait(Math.max(0, body.deadline - Date.now()) + 300).then(() =>
          bus(env).queue({ ...batch, messages: [copy(m, `${m.id}-late`)] }, env, ctx),
        ),
      )
    } else now.push(m)
  }
  ctx.waitUntil(Promise.all(later))
  await bus(env).queue({ ...batch, messages: now }, env, ctx)
  // Outcomes that reached the object after the lease's end were not taken: the event is sent again.
  for (const m of now) {
    const body = m.body as {
      subscription?: string
      deadline: number
      attempt: number
      event: Tagged
    }
    if (body.subscription !== 'chaos' || Date.now() < body.deadline) continue
    const { id } = fromTagged(body.event) as BusEvent
    await fetch(`${env.COLLECTOR}/lapsed`, {
      method: 'POST',
      body: JSON.stringify({ id, attempt: body.attempt }),
    }).catch(() => {})
  }
}
