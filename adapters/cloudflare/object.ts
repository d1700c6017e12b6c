import { DurableObject } from 'cloudflare:workers'
import {
  type Bus,
  type BusOptions,
  createBus,
  type PublishInput,
  type Store,
} from '../../src/index.js'
import { leaveDeadRuntimesToHost, releaseAllLeases } from '../../src/internal.js'
import { ringAlarm } from './_alarm.js'
import { alarmClock, type AlarmClock } from './clock.js'
import { claimJournal, countDeadRuntimes } from './_claims.js'
import { queueDelivery, type ClaimRequest, type Outcome } from './_delivery.js'
import { liveSockets } from './_live.js'
import { durableObjectStore } from './store.js'
import type { Subscriptions } from './subscriptions.js'
import { check, isRecord, reply, toWire, type Reply } from './_wire.js'
import { callBus } from './_calls.js'
import { fireCron } from './_cron.js'

/**
 * The largest event a `BusObject` accepts, serialized (the core's measure: wire JSON, UTF-8):
 * 124 KiB, so that the event plus its delivery envelope fits a Queue message (128 KB).
 *
 * @example
 * if (new TextEncoder().encode(JSON.stringify(data)).length > MAX_EVENT_BYTES - 1024) await env.BUCKET.put(key, body)
 */
export const MAX_EVENT_BYTES = 126_976

/**
 * Options of a {@link BusObject}, chosen once at construction.
 *
 * @example
 * const options: BusObjectOptions = { subscriptions, queue: env.DELIVERY, bus: { source: 'shop' }, live: { maxUnacked: 500 } }
 */
export interface BusObjectOptions {
  /** Queue-delivered subscriptions (see `defineSubscriptions`); needs `queue`. */
  subscriptions?: Subscriptions
  /** The Queue producer binding deliveries go out on. */
  queue?: Queue
  /** Options of the bus inside the object. `limits.maxEventBytes` defaults to {@link MAX_EVENT_BYTES}. */
  bus?: Omit<BusOptions, 'store' | 'clock'>
  /** The time source (tests skew it); the alarm follows it. Default `Date.now`. */
  now?: () => number
  /** Live WebSocket clients: log positions a client may fall behind its acks before it is paused. Default 1,000. */
  live?: { maxUnacked?: number }
}

/** How long (ms) the object gathers publish calls arriving together into one commit, at most. */
const GATHER_MS = 4

export type { Call } from './_calls.js'

/** @internal One entry of an `append` RPC: a publish, or a `publishMany` that must stay atomic. */
export type AppendItem = PublishInput | { many: PublishInput[] }

/**
 * A SQLite-backed Durable Object that runs the tidings core over its own storage: the log, the
 * dedup index, cursors, the ledger, retries, dead letters and schedules live in one table, and the
 * object's single alarm drives every wait (delayed events, retries, lease lapses, schedules).
 * Export a subclass from your Worker, bind it, and list it under `new_sqlite_classes`. The Worker
 * talks to it through {@link cloudflareBus}, never by hand.
 *
 * @example
 * export class Bus extends BusObject<Env> {
 *   constructor(ctx: DurableObjectState, env: Env) {
 *     super(ctx, env, { subscriptions, queue: env.DELIVERY })
 *   }
 * }
 */
export class BusObject<Env = unknown> extends DurableObject<Env> {
  #bus!: Bus
  readonly #clock: AlarmClock
  #delivery: ReturnType<typeof queueDelivery> | undefined
  #live!: ReturnType<typeof liveSockets>
  #inbox: { item: AppendItem; done(r: Reply<unknown>): void }[] = []

  constructor(ctx: DurableObjectState, env: Env, options: BusObjectOptions = {}) {
    super(ctx, env)
    const store = durableObjectStore(ctx.storage)
    // The claim journal counts what a dead runtime had out (exactly, one row per incarnation):
    // the core's own count of it would charge each of those deliveries twice.
    leaveDeadRuntimesToHost(store)
    const clock = (this.#clock = alarmClock(ctx.storage, options.now))
    // No request runs until the bus has loaded its state and its subscriptions are attached.
    const journal = claimJournal(ctx.storage)
    void ctx.blockConcurrencyWhile(async () => {
      // The only bus over this storage: a lease left by its previous life (an eviction, a deploy)
      // is released at start, so its subscriptions resume at once instead of waiting for a lapse.
      await releaseAllLeases(store)
      // The deliveries an earlier incarnation had running are no longer running: each counts as an
      // attempt and is re-sent as soon as the bus starts, not when its lease would have lapsed.
      const attemptsOf = (name: string) => {
        const s = options.subscriptions?.[name]
        return s && (s.retry?.attempts ?? 5)
      }
      await countDeadRuntimes(store, journal.previous(), attemptsOf, clock.now())
      journal.forgetPrevious()
      const bus = (this.#bus = createBus({
        ...options.bus,
        limits: { maxEventBytes: MAX_EVENT_BYTES, ...options.bus?.limits },
        // Leases only matter between buses over one storage, and this is the only one (its old
        // leases are released above): a long lease keeps renewals from waking the object.
        subscriptions: { lease: 3_600_000, ...options.bus?.subscriptions },
        store,
        clock,
      }))
      this.#live = liveSockets(ctx, bus, { maxUnacked: options.live?.maxUnacked ?? 1000 })
      const subs = Object.entries(options.subscriptions ?? {})
      if (subs.length && !options.queue)
        throw new TypeError('BusObject: subscriptions need a queue binding to deliver through')
      if (!subs.length) return
      const delivery = (this.#delivery = queueDelivery(
        options.queue!,
        ctx.id,
        clock,
        journal.write,
      ))
      for (const [name, { handler: _, pattern, ...o }] of subs) {
        const timeout = o.timeout ?? 30_000
        const handler = o.batch
          ? delivery.batchHandler(name, timeout)
          : delivery.handler(name, timeout)
        // Either kind: the options say which, the handler matches them.
        await bus.subscribe(name, pattern, handler as never, o as never)
      }
    })
  }

  /** The bus inside the object, for subclasses that add their own methods. */
  protected get bus(): Bus {
    return this.#bus
  }

  /**
   * Publishes a batch from a Worker (one RPC per shard per tick, see {@link cloudflareBus}).
   * Calls that arrive together are gathered (a few ms at most) and handed to the bus in one tick,
   * so they share one storage transaction (group commit). Each entry succeeds or fails alone;
   * a `{ many }` entry is atomic.
   */
  async append(items: unknown): Promise<Reply<Reply<unknown>[]>> {
    return reply(() => {
      check(
        Array.isArray(items) && items.length > 0 && items.length <= 10_000,
        'append takes an array of 1..10000 entries',
      )
      for (const i of items as unknown[]) {
        check(
          isRecord(i) &&
            (Array.isArray(i.many)
              ? (i.many as unknown[]).every(isRecord)
              : typeof i.type === 'string'),
          'each entry is { type, data, ...options } or { many: [...] }',
        )
      }
      if (!this.#inbox.length) {
        this.#waited = 0
        setTimeout(this.#flush, 1)
      }
      this.#arrived = true
      return Promise.all(
        (items as AppendItem[]).map(
          (item) => new Promise<Reply<unknown>>((done) => this.#inbox.push({ item, done })),
        ),
      )
    })
  }

  // Group commit across calls: the inbox is handed to the bus once a millisecond passes with no
  // new call arriving (so 2 ms at least, GATHER_MS at most after the first), so calls that arrive
  // together, from many Workers, share one storage transaction. (A 1 ms window measured faster
  // from one Worker but let calls from several Workers arriving together miss each other.)
  #arrived = false
  #waited = 0
  #flush = () => {
    if (this.#arrived && this.#waited < GATHER_MS) {
      this.#arrived = false
      this.#waited++
      setTimeout(this.#flush, 1)
      return
    }
    this.#arrived = false
    const inbox = this.#inbox
    this.#inbox = []
    // If the object dies before these events' deliveries go out, its alarm wakes it to send them.
    this.#delivery?.keepAwake()
    // All in one tick: the core appends them in one commit.
    for (const { item, done } of inbox) {
      const p =
        'many' in item
          ? this.#bus.publishMany(item.many)
          : (() => {
              const { type, data, ...o } = item
              return this.#bus.publish(type, data, o as never)
            })()
      p.then(
        (value: unknown) => done({ ok: true, value }),
        (e: unknown) => done({ ok: false, error: toWire(e) }),
      )
    }
  }

  /** The read and admin half of the Bus API, by name (`'stats'`, `'deadLetters.redrive'`...). */
  async call(method: unknown, args: unknown): Promise<Reply<unknown>> {
    return reply(() => callBus(this.#bus, method, args))
  }

  /**
   * The Worker asks to run Queue deliveries before it runs any handler: for each, the ms left of its
   * lease, or null when it must be acked unrun (acknowledged, lapsed, or running elsewhere).
   */
  async claim(requests: unknown): Promise<Reply<(number | null)[]>> {
    return reply(() => {
      check(
        Array.isArray(requests) &&
          requests.every(
            (r) =>
              isRecord(r) && typeof r.delivery === 'string' && typeof r.redelivered === 'boolean',
          ),
        'requests must be [{ delivery: string, redelivered: boolean }]',
      )
      return (
        this.#delivery?.claim(requests as ClaimRequest[]) ?? (requests as unknown[]).map(() => null)
      )
    })
  }

  /** Outcomes of Queue deliveries, reported by the Worker's `queue()`. */
  async settle(outcomes: unknown): Promise<Reply<number>> {
    return reply(() => {
      // A failure must say why (checked for all before any is applied: nothing half-settled).
      check(
        Array.isArray(outcomes) &&
          outcomes.every(
            (o) =>
              isRecord(o) &&
              typeof o.delivery === 'string' &&
              typeof o.ok === 'boolean' &&
              (o.ok || (isRecord(o.error) && typeof o.error.message === 'string')),
          ),
        'outcomes must be [{ delivery, ok: true, ms? } | { delivery, ok: false, ms?, error: { message, name?, code? } }]',
      )
      return this.#delivery?.settle(outcomes as Outcome[]) ?? 0
    })
  }

  /** Deliveries that reached the Queue's dead-letter queue: recorded as dead letters. */
  async lost(deliveries: unknown): Promise<Reply<number>> {
    return reply(() => {
      check(
        Array.isArray(deliveries) && deliveries.every((d) => typeof d === 'string'),
        'deliveries must be an array of strings',
      )
      return this.#delivery?.lost(deliveries as string[]) ?? 0
    })
  }

  /**
   * A Cron Trigger fired: publishes every UTC schedule with this exact cron expression, with the
   * id the alarm would use for that tick (`schedule:<name>:<scheduledTime>`), so a double fire, or
   * the cron and the alarm both firing, store one event.
   */
  async fireCron(
    cron: unknown,
    scheduledTime: unknown,
  ): Promise<Reply<{ name: string; id: string; seq: number; duplicate: boolean }[]>> {
    return reply(() => fireCron(this.#bus, cron, scheduledTime))
  }

  /** WebSocket upgrades (`?pattern=&filter=&from=`) become live subscribers of this shard. */
  override async fetch(request: Request): Promise<Response> {
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
      return new Response('expected a WebSocket upgrade', { status: 426 })
    try {
      return await this.#live.accept(request)
    } catch (e) {
      return Response.json({ error: toWire(e) }, { status: 400 })
    }
  }

  override async webSocketMessage(ws: WebSocket, message: string | ArrayBuffer): Promise<void> {
    this.#live.message(ws, message)
  }
  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    this.#live.close(ws, code)
  }

  /** The one alarm: runs whatever is due (see _alarm.ts for what it is kept for). */
  override async alarm(): Promise<void> {
    await ringAlarm(this.#clock)
  }
}
