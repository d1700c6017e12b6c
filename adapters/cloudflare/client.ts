import { fail, type Instrumentation } from '../../src/internal.js'
import { type Bus, TidingsError, type EventMap, type OpenEvents } from '../../src/index.js'
import { shardAdmin } from './_admin.js'
import { queueConsumer } from './_consumer.js'
import { shardPublisher } from './_publish.js'
import { shardReader } from './_read.js'
import { shardOf } from './_shard.js'
import { shardStubs, type BusNamespace } from './_stubs.js'
import { unwrap } from './_wire.js'
import type { Subscriptions } from './subscriptions.js'

export type { BusNamespace } from './_stubs.js'

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
  /**
   * Tracing hooks (e.g. `otel()` from `tidings/otel`): a span per publish made here and per handler
   * run by `queue()`, parented by the event's traceparent, as on any bus.
   */
  instrumentation?: Instrumentation
}

/**
 * The part of the Bus API that works over Durable Object RPC from a Worker (publishing, reading,
 * administration, schedules), plus the Worker handlers that feed the bus. Not `on`, `waitFor` or
 * `subscribe`: they need a process that lives on, which a Worker is not (use `connect` for live
 * events and `defineSubscriptions` for durable subscriptions).
 *
 * @example
 * const bus: CloudflareBus<Events> = cloudflareBus(env.BUS, { shards: 4 })
 * await bus.publish('order.placed', { total: 42 }, { key: 'o1' })
 */
export interface CloudflareBus<E extends EventMap = any> extends Pick<
  Bus<E>,
  | 'publish'
  | 'publishMany'
  | 'cancel'
  | 'read'
  | 'subscriptions'
  | 'deleteSubscription'
  | 'replay'
  | 'stats'
  | 'deadLetters'
  | 'schedule'
  | 'schedules'
  | 'unschedule'
  | 'runSchedule'
  | 'idle'
  | 'close'
> {
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
 *   fetch: (req, env) => busApp({ bus: cloudflareBus(env.BUS, { shards: 4 }), auth: false, stream: { poll: 500 } }).fetch(req),
 *   queue: (batch, env, ctx) => cloudflareBus(env.BUS, { shards: 4, subscriptions }).queue(batch, env, ctx),
 *   scheduled: (controller, env) => cloudflareBus(env.BUS, { shards: 4 }).scheduled(controller),
 * }
 */
export function cloudflareBus<E extends EventMap = OpenEvents>(
  namespace: BusNamespace,
  options: CloudflareBusOptions = {},
): CloudflareBus<E> {
  const name = options.name ?? 'tidings'
  const ring = shardStubs(namespace, options.shards ?? 1, name)
  const { shards, stubs } = ring
  const publisher = shardPublisher(ring, options.instrumentation)

  // Chained publishes go to the bus the event came from, which may be named differently.
  const others = new Map<string, CloudflareBus>()
  const busNamed = (n: string | undefined): CloudflareBus => {
    if (n === undefined || n === name) return bus
    let b = others.get(n)
    if (!b) others.set(n, (b = cloudflareBus(namespace, { ...options, name: n })))
    return b
  }

  const bus: CloudflareBus = {
    ...publisher,
    read: shardReader(ring),
    ...shardAdmin(ring),
    ...refusals,
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
    queue: queueConsumer({ namespace, options, bus: publisher, busNamed }),
  }
  return bus as CloudflareBus<E>
}

const unsupported = (what: string, instead: string) =>
  fail('INVALID_OPTIONS', `${what} is not available on the Cloudflare bus: ${instead}`)

// Not part of CloudflareBus: a caller without its types (JavaScript, a cast) still gets a coded
// refusal, as before the type was narrowed, rather than a TypeError.
const refusals = {
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
}
