import type { Bus, PublishInput, PublishOptions, ReadOptions } from '../../src/bus.js'
import { fail, TidingsError } from '../../src/errors.js'
import {
  decodeCursor,
  encodeCursor,
  idPrefix,
  ownId,
  type BusEvent,
  type EventMap,
  type OpenEvents,
} from '../../src/event.js'
import { fromTagged } from '../../src/tagged.js'
import { batchGroups, runBatch } from './_batches.js'
import { isDelivery, type DeliveryMessage, type Outcome } from './_delivery.js'
import type { AppendItem, BusObject, Call } from './object.js'
import { isR2Notification, r2Event } from './r2.js'
import { shardOf } from './_shard.js'
import type { EdgeHandlerContext, Subscriptions } from './subscriptions.js'
import { fromWire, toWire, unwrap, type Reply } from './_wire.js'

/**
 * Options of {@link cloudflareBus}.
 *
 * @example
 * const options: CloudflareBusOptions = { shards: 4, subscriptions, deadLetterQueue: 'tidings-dlq' }
 */
export interface CloudflareBusOptions {
  /** Objects the log is spread over. Default 1. Changing it moves keys to other shards: pick it once. */
  shards?: number
  /** Objects are named `<name>:<shard>`. Default `'tidings'`. */
  name?: string
  /** The same definitions the object loads: `queue()` runs their handlers. */
  subscriptions?: Subscriptions
  /** The name of the Queue's dead-letter queue, when `queue()` also consumes it. */
  deadLetterQueue?: string
}

/**
 * The Bus API over Durable Object RPC, plus the Worker handlers that feed the bus.
 *
 * @example
 * const bus: CloudflareBus<Events> = cloudflareBus(env.BUS, { shards: 4 })
 * await bus.publish('order.placed', { total: 42 }, { key: 'o1' })
 */
export interface CloudflareBus<E extends EventMap = any> extends Bus<E> {
  /** The Worker's `scheduled` handler: fires the UTC schedules whose cron is `controller.cron`. */
  scheduled(
    controller: Pick<ScheduledController, 'cron' | 'scheduledTime'>,
  ): Promise<{ name: string; id: string; seq: number; duplicate: boolean }[]>
  /**
   * The Worker's `queue` handler: claims a batch's deliveries from their objects (one RPC per object)
   * and runs only those granted (a duplicate, late or acknowledged one is acked unrun), records the
   * dead-letter queue, turns R2 notifications into events.
   */
  queue(
    batch: MessageBatch,
    env?: unknown,
    ctx?: Pick<ExecutionContext, 'waitUntil'>,
  ): Promise<void>
  /** Forwards a WebSocket upgrade (`?pattern=&filter=&from=`) to one shard's live stream. */
  connect(request: Request, shard: number): Promise<Response>
  /** The shard an ordering key (or an unkeyed event's id) lands on. */
  shardOf(key: string): number
}

/**
 * The Durable Object namespace binding of a `BusObject` class (what `cloudflareBus` uses of it).
 *
 * @example
 * interface Env { BUS: DurableObjectNamespace<Bus> } // env.BUS is a BusNamespace
 */
export interface BusNamespace {
  idFromName(name: string): DurableObjectId
  idFromString(id: string): DurableObjectId
  get(id: DurableObjectId): unknown
}

/** What the Worker sees of the object: its RPC methods. */
type Stub = Pick<BusObject, 'append' | 'call' | 'claim' | 'settle' | 'lost' | 'fireCron' | 'fetch'>

/**
 * The Worker-side bus: the Bus API over RPC to one `BusObject` per shard.
 *
 * - An event with an ordering key goes to the shard of its key, so order per key holds. An
 *   unkeyed event goes to the shard of its id (given here when the caller gives none), so a
 *   retried publish with the same id lands where the first did and is deduplicated there.
 *   Across shards there is no global order, as across Kafka partitions.
 * - Publishes made in one tick are sent as one RPC per shard: the RPC hop, not SQL, is the cost.
 *   `publishMany` is atomic per shard (entries sharing a key, or with `shards: 1`, all or none).
 * - `read` takes and returns opaque cursors holding one position per shard; pages merge shards
 *   by event time.
 * - Schedules live on the home shard (shard 0). Subscriptions are declared with
 *   `defineSubscriptions` and delivered through a Queue; live listeners use `connect` (WebSocket).
 *
 * @example
 * export default {
 *   fetch: (req, env) => busApp({ bus: cloudflareBus(env.BUS, { shards: 4 }), auth: false }).fetch(req),
 *   queue: (batch, env, ctx) => cloudflareBus(env.BUS, { shards: 4, subscriptions }).queue(batch, env, ctx),
 *   scheduled: (controller, env) => cloudflareBus(env.BUS, { shards: 4 }).scheduled(controller),
 * }
 */
export function cloudflareBus<E extends EventMap = OpenEvents>(
  namespace: BusNamespace,
  options: CloudflareBusOptions = {},
): CloudflareBus<E> {
  const shards = options.shards ?? 1
  if (!Number.isInteger(shards) || shards < 1 || shards > 1024)
    fail('INVALID_OPTIONS', `shards must be an integer in 1..1024, got ${shards}`)
  const name = options.name ?? 'tidings'
  // One stub per shard: calls through one stub arrive in the order they were made.
  const stubs = Array.from(
    { length: shards },
    (_, i) => namespace.get(namespace.idFromName(`${name}:${i}`)) as unknown as Stub,
  )
  const all = <T>(f: (s: Stub, i: number) => Promise<T>) => Promise.all(stubs.map(f))
  const call = async (s: Stub, method: Call, args: unknown[]) =>
    unwrap((await s.call(method, args)) as Reply<unknown>) as never
  const prefix = idPrefix(Date.now())
  let counter = 0
  let closed = false

  // A duplicate's seq is its shard's: give the cursor that reads it back (`read({ from, limit: 1 })`),
  // every other shard placed past its end, so the HTTP app can tell a retry from a taken id.
  const located = (shard: number, v: unknown): unknown => {
    const r = v as { duplicate?: boolean; seq?: number } | unknown[]
    if (Array.isArray(r)) return r.map((x) => located(shard, x))
    if (!r?.duplicate || r.seq === undefined) return r
    return {
      ...r,
      cursor: encodeCursor(stubs.map((_, i) => (i === shard ? r.seq! : Number.MAX_SAFE_INTEGER))),
    }
  }

  // Publishes waiting for this tick's RPC, per shard.
  const outgoing = new Map<
    number,
    { item: AppendItem; resolve(v: unknown): void; reject(e: unknown): void }[]
  >()
  const inflight = new Set<Promise<unknown>>()
  const flush = (shard: number) => {
    const batch = outgoing.get(shard)!
    outgoing.delete(shard)
    const p = stubs[shard]!.append(batch.map((b) => b.item)).then(
      (r) => {
        const results = unwrap(r as Reply<Reply<unknown>[]>)
        results.forEach((x, i) =>
          x.ok ? batch[i]!.resolve(located(shard, x.value)) : batch[i]!.reject(fromWire(x.error)),
        )
      },
      (e) => {
        for (const b of batch) b.reject(e)
      },
    )
    inflight.add(p)
    void p.finally(() => inflight.delete(p))
  }
  const send = (shard: number, item: AppendItem) =>
    new Promise<any>((resolve, reject) => {
      let q = outgoing.get(shard)
      if (!q) {
        outgoing.set(shard, (q = []))
        queueMicrotask(() => flush(shard))
      }
      q.push({ item, resolve, reject })
      if (q.length >= 10_000) flush(shard)
    })

  /** Gives an unkeyed event its id here, so its shard is known and a retry finds it. */
  const place = (input: PublishInput): [number, PublishInput] => {
    if (closed) fail('CLOSED', 'the bus is closed')
    if (typeof input !== 'object' || input === null)
      fail('INVALID_OPTIONS', 'an event is { type, data, ...options }')
    const o = input as PublishInput & PublishOptions
    if (o.key !== undefined && typeof o.key !== 'string')
      fail('INVALID_OPTIONS', `key ${JSON.stringify(o.key)} is not a string`)
    if (o.id !== undefined && typeof o.id !== 'string')
      fail('INVALID_OPTIONS', `id ${JSON.stringify(o.id)} is not a string`)
    const id = o.id ?? (o.key === undefined ? ownId(prefix, ++counter) : undefined)
    return [shardOf(o.key ?? id!, shards), id === o.id ? o : { ...o, id: id! }]
  }

  // Dead letter ids carry their shard: `<shard>:<subscription>/<seq>`.
  const byShard = (ids: readonly string[] | undefined): (string[] | undefined)[] => {
    if (ids === undefined) return stubs.map(() => undefined)
    const out = stubs.map((): string[] => [])
    for (const id of ids) {
      const m = /^(\d+):(.+)$/.exec(String(id))
      if (m && Number(m[1]) < shards) out[Number(m[1])]!.push(m[2]!)
    }
    return out
  }
  const sum = async (f: (s: Stub, i: number) => Promise<number>) =>
    (await all(f)).reduce((a, b) => a + b, 0)
  const unsupported = (what: string, instead: string) =>
    fail('INVALID_OPTIONS', `${what} is not available on the Cloudflare bus: ${instead}`)

  const bus: CloudflareBus = {
    publish: ((type: string, data: unknown, o: PublishOptions = {}) => {
      try {
        const [shard, input] = place({ ...o, type, data } as PublishInput)
        return send(shard, input)
      } catch (e) {
        return Promise.reject(e)
      }
    }) as CloudflareBus['publish'],

    async publishMany(inputs) {
      if (!Array.isArray(inputs) || !inputs.length)
        fail('INVALID_OPTIONS', 'publishMany takes a non-empty array')
      const groups = new Map<number, { at: number[]; many: PublishInput[] }>()
      inputs.forEach((input, at) => {
        const [shard, placed] = place(input)
        const g = groups.get(shard) ?? { at: [], many: [] }
        groups.set(shard, g)
        g.at.push(at)
        g.many.push(placed)
      })
      const out: unknown[] = []
      await Promise.all(
        [...groups].map(async ([shard, g]) => {
          const results = (await send(shard, { many: g.many })) as unknown[]
          g.at.forEach((at, i) => {
            out[at] = results[i]
          })
        }),
      )
      return out as never
    },

    cancel: async (id) =>
      (await all((s) => call(s, 'cancel', [id]) as Promise<boolean>)).some(Boolean),

    on: () =>
      unsupported(
        'on()',
        'live listeners run in the object; connect a WebSocket (bus.connect) instead',
      ),
    waitFor: () =>
      Promise.reject(
        new TidingsError(
          'INVALID_OPTIONS',
          'waitFor() is not available on the Cloudflare bus: connect a WebSocket instead',
        ),
      ),
    subscribe: () =>
      Promise.reject(
        new TidingsError(
          'INVALID_OPTIONS',
          'subscribe() is not available on the Cloudflare bus: declare subscriptions with defineSubscriptions, loaded by both the Worker and the object',
        ),
      ),

    async read(o: ReadOptions = {}) {
      const { from, pattern, limit = 100 } = o
      // 'earliest' and 'latest' go to every shard as they are: each knows its own start and end.
      const named = from === 'earliest' || from === 'latest'
      const at = from === undefined || named ? stubs.map(() => 1) : decodeCursor(from)
      if (!at || at.length !== shards)
        fail(
          'INVALID_CURSOR',
          `${JSON.stringify(from)} is not a cursor of this ${shards}-shard bus`,
        )
      const pages = await all(
        (s, i) =>
          call(s, 'read', [
            {
              from: named ? from : encodeCursor([at![i]!]),
              limit,
              ...(pattern === undefined ? {} : { pattern }),
            },
          ]) as Promise<{ events: BusEvent[]; next: string }>,
      )
      // Where each shard's page began: what a shard that gives none of its page stays at.
      if (named)
        pages.forEach((p, i) => {
          at![i] = p.events[0]?.seq ?? decodeCursor(p.next)![0]!
        })
      // Merge by time, taking each shard's events in seq order (a k-way merge, not a sort: a clock
      // that stepped back inside a shard must not put a later seq first and skip the one before it),
      // up to `limit`, and move each shard past what it gave.
      const heads = pages.map(() => 0)
      const merged: { e: BusEvent; shard: number }[] = []
      while (merged.length < limit) {
        let pick = -1
        pages.forEach((p, i) => {
          const e = p.events[heads[i]!]
          if (e && (pick < 0 || e.time < pages[pick]!.events[heads[pick]!]!.time)) pick = i
        })
        if (pick < 0) break
        merged.push({ e: pages[pick]!.events[heads[pick]!++]!, shard: pick })
      }
      const next = [...at!]
      const taken = pages.map(() => 0)
      const after: string[] = []
      for (const { e, shard } of merged) {
        next[shard] = e.seq + 1
        taken[shard]!++
        if (o.cursors) after.push(encodeCursor(next))
      }
      pages.forEach((p, shard) => {
        if (taken[shard] === p.events.length) next[shard] = decodeCursor(p.next)![0]!
      })
      return {
        events: merged.map((m) => m.e),
        next: encodeCursor(next),
        ...(o.cursors ? { cursors: after } : {}),
      } as never
    },

    async subscriptions() {
      const merged = new Map<
        string,
        { name: string; pattern: string; attached: boolean; lag: number }
      >()
      for (const list of await all(
        (s) =>
          call(s, 'subscriptions', []) as Promise<
            { name: string; pattern: string; attached: boolean; lag: number }[]
          >,
      )) {
        for (const r of list) {
          const m = merged.get(r.name)
          if (!m) merged.set(r.name, { ...r })
          else {
            m.lag += r.lag
            m.attached ||= r.attached
          }
        }
      }
      return [...merged.values()]
    },
    deleteSubscription: async (n) =>
      (await all((s) => call(s, 'deleteSubscription', [n]) as Promise<boolean>)).some(Boolean),
    replay: async (n, point) => {
      await all((s) => call(s, 'replay', [n, point]))
    },
    async stats() {
      type S = {
        name: string
        lag: number
        inFlight: number
        retrying: number
        deadLetters: number
        oldestAge: number
      }
      const merged = new Map<string, S>()
      for (const list of await all((s) => call(s, 'stats', []) as Promise<S[]>)) {
        for (const r of list) {
          const m = merged.get(r.name)
          if (!m) {
            merged.set(r.name, { ...r })
            continue
          }
          m.lag += r.lag
          m.inFlight += r.inFlight
          m.retrying += r.retrying
          m.deadLetters += r.deadLetters
          m.oldestAge = Math.max(m.oldestAge, r.oldestAge)
        }
      }
      return [...merged.values()]
    },
    deadLetters: {
      list: async (o) =>
        (
          await all(async (s, i) =>
            ((await call(s, 'deadLetters.list', [o ?? {}])) as { id: string }[]).map((d) => ({
              ...d,
              id: `${i}:${d.id}`,
            })),
          )
        ).flat() as never,
      redrive: (ids) => {
        const per = byShard(ids)
        return sum((s, i) =>
          per[i] && !per[i]!.length ? Promise.resolve(0) : call(s, 'deadLetters.redrive', [per[i]]),
        )
      },
      discard: (ids) => {
        const per = byShard(ids)
        return sum((s, i) =>
          per[i] && !per[i]!.length ? Promise.resolve(0) : call(s, 'deadLetters.discard', [per[i]]),
        )
      },
    },

    schedule: (n, spec) => call(stubs[0]!, 'schedule', [n, spec]),
    schedules: () => call(stubs[0]!, 'schedules', []),
    unschedule: (n) => call(stubs[0]!, 'unschedule', [n]),
    runSchedule: (n, o) => call(stubs[0]!, 'runSchedule', [n, o ?? {}]),

    async idle() {
      while (outgoing.size || inflight.size)
        await Promise.allSettled([...inflight, Promise.resolve()])
    },
    async close() {
      closed = true
      await bus.idle()
    },

    scheduled: async (controller) =>
      unwrap(await stubs[0]!.fireCron(controller.cron, controller.scheduledTime)),
    connect: (request, shard) => {
      if (!Number.isInteger(shard) || shard < 0 || shard >= shards)
        return Promise.reject(
          new TidingsError('INVALID_OPTIONS', `shard must be an integer in 0..${shards - 1}`),
        )
      return stubs[shard]!.fetch(request)
    },
    shardOf: (key) => shardOf(key, shards),

    async queue(batch, env, execution) {
      // Without the Worker's context, what handlers pass to waitUntil is awaited here instead.
      const later: Promise<unknown>[] = []
      const waitUntil = execution
        ? (p: Promise<unknown>) => execution.waitUntil(p)
        : (p: Promise<unknown>) => {
            later.push(p.catch(() => {}))
          }
      const lostHere =
        options.deadLetterQueue !== undefined && batch.queue === options.deadLetterQueue
      const byObject = new Map<string, { body: DeliveryMessage; m: Message }[]>()
      const other: Promise<void>[] = []
      for (const m of batch.messages) {
        const body = m.body
        if (isR2Notification(body)) {
          other.push(
            (async () => {
              try {
                const { type, data, ...o } = await r2Event(body)
                await bus.publish(type, data, o)
                m.ack()
              } catch {
                m.retry()
              }
            })(),
          )
          continue
        }
        // Not ours: left to the Queue's retries and, in the end, its dead-letter queue.
        if (!isDelivery(body)) {
          m.retry()
          continue
        }
        const list = byObject.get(body.object) ?? []
        byObject.set(body.object, list)
        list.push({ body, m })
      }
      // Per object: one RPC to claim the batch's deliveries, the handlers of those it granted, one
      // RPC with their outcomes. What it refused (acknowledged, lapsed, running elsewhere) is acked
      // unrun. If an RPC fails, the Queue retries those messages (transport loss only).
      await Promise.all(
        [...byObject].map(async ([object, list]) => {
          const stub = namespace.get(namespace.idFromString(object)) as unknown as Stub
          try {
            if (lostHere) {
              unwrap((await stub.lost(list.map((x) => x.body.delivery))) as Reply<number>)
              for (const { m } of list) m.ack()
              return
            }
            const leases = unwrap(
              (await stub.claim(
                list.map(({ body, m }) => ({
                  delivery: body.delivery,
                  redelivered: m.attempts > 1,
                })),
              )) as Reply<(number | null)[]>,
            )
            const granted = list.filter((_, i) => typeof leases[i] === 'number')
            for (const { m } of list.filter((_, i) => typeof leases[i] !== 'number')) m.ack()
            if (!granted.length) return
            const claimed = list.flatMap(({ body }, i) =>
              typeof leases[i] === 'number' ? [{ d: body, ms: leases[i]! }] : [],
            )
            const outcomes = (
              await Promise.all([
                ...claimed
                  .filter(({ d }) => !d.events)
                  .map(({ d, ms }) => run(d, ms, env, waitUntil)),
                ...batchGroups(
                  options.subscriptions,
                  claimed.filter(({ d }) => d.events),
                ).map((group) => runBatch(options.subscriptions, chained, group, env, waitUntil)),
              ])
            ).flat()
            try {
              unwrap((await stub.settle(outcomes)) as Reply<number>)
              for (const { m } of granted) m.ack()
            } catch {
              for (const { m } of granted) m.retry()
            }
          } catch {
            for (const { m } of list) m.retry()
          }
        }),
      )
      await Promise.all(other)
      await Promise.all(later)
    },
  }

  // Chained publishes go to the bus the event came from, which may be named differently.
  const others = new Map<string, CloudflareBus>()
  const busNamed = (n: string | undefined): CloudflareBus => {
    if (n === undefined || n === name) return bus
    let b = others.get(n)
    if (!b) others.set(n, (b = cloudflareBus(namespace, { ...options, name: n })))
    return b
  }

  /** A chained publish from a handler: caused by `event`, in its correlation, with an id stable across retries. */
  const chained = (d: DeliveryMessage, event: BusEvent): EdgeHandlerContext['publish'] => {
    let calls = 0
    return (type, data, o = {}) =>
      busNamed(d.bus).publish(type, data, {
        ...o,
        id: o.id ?? `${d.subscription}:${event.id}:${calls++}`,
        causationId: event.id,
        correlationId: event.correlationId ?? event.id,
        ...(event.traceparent ? { traceparent: childSpan(event.traceparent) } : {}),
      })
  }

  /** Runs one claimed delivery's handler for the `ms` left of its lease; its outcome goes back to the object. */
  const run = async (
    d: DeliveryMessage,
    ms: number,
    env: unknown,
    waitUntil: (p: Promise<unknown>) => void,
  ): Promise<Outcome> => {
    const sub = options.subscriptions?.[d.subscription]
    if (!sub || sub.batch)
      return {
        delivery: d.delivery,
        ok: false,
        error: {
          name: 'Error',
          message: `no handler for subscription "${d.subscription}" in this Worker`,
        },
      }
    try {
      const event = fromTagged(d.event) as BusEvent
      const ctx: EdgeHandlerContext = {
        attempt: d.attempt,
        env,
        waitUntil,
        signal: AbortSignal.timeout(Math.max(1, ms)),
        publish: chained(d, event),
      }
      await sub.handler(event, ctx)
      return { delivery: d.delivery, ok: true }
    } catch (e) {
      return { delivery: d.delivery, ok: false, error: toWire(e) }
    }
  }

  return bus as CloudflareBus<E>
}

/** A W3C traceparent for a child span, as the core's chained publish makes it: the same trace id, a new span id. */
const childSpan = (parent: string): string => {
  const span = crypto
    .getRandomValues(new Uint8Array(8))
    .reduce((s, b) => s + b.toString(16).padStart(2, '0'), '')
  return `${parent.slice(0, 36)}${span}${parent.slice(52)}`
}
