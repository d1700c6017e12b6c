import { chainedOptions, fromTagged } from '../../src/internal.js'
import type { Bus, BusEvent, Instrumentation } from '../../src/index.js'
import { chainedPublish, runBatches } from './_batches.js'
import { isDelivery, type DeliveryMessage, type Outcome } from './_delivery.js'
import { isR2Notification, r2Event, type R2Notification } from './r2.js'
import type { BusNamespace, Stub } from './_stubs.js'
import type { EdgeHandlerContext, Subscriptions } from './subscriptions.js'
import { toWire, unwrap, type Reply } from './_wire.js'

/** @internal What the Worker's `queue()` needs: the bindings, the handlers, and where publishes go. @example const c: ConsumerContext = { namespace: env.BUS, options: {}, bus, busNamed: () => bus } */
export interface ConsumerContext {
  namespace: BusNamespace
  options: {
    subscriptions?: Subscriptions | undefined
    deadLetterQueue?: string | undefined
    instrumentation?: Instrumentation | undefined
  }
  /** Where R2 notifications are published. */
  bus: Pick<Bus, 'publish'>
  /** The bus of that name (an event's own bus), where a handler's chained publishes go. */
  busNamed: (name: string | undefined) => Pick<Bus, 'publish'>
}

/** Publishes an R2 notification as an event: the message is acked once stored, retried otherwise. */
const publishR2 = async (
  bus: Pick<Bus, 'publish'>,
  body: R2Notification,
  m: Message,
): Promise<void> => {
  try {
    const { type, data, ...o } = await r2Event(body)
    await bus.publish(type, data, o)
    m.ack()
  } catch {
    m.retry()
  }
}

/** Runs one claimed delivery's handler for the `ms` left of its lease; its outcome goes back to the object. */
const run = async (
  { options, busNamed }: ConsumerContext,
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
  let event: BusEvent
  try {
    event = fromTagged(d.event) as BusEvent
  } catch (e) {
    return { delivery: d.delivery, ok: false, error: toWire(e) }
  }
  const span = options.instrumentation?.handle?.(event, d.subscription, d.attempt)
  let calls = 0
  const ctx: EdgeHandlerContext = {
    attempt: d.attempt,
    env,
    waitUntil,
    signal: AbortSignal.timeout(Math.max(1, ms)),
    // A chained publish: caused by this event, in its correlation, with an id stable across
    // retries; traced, its parent is this handler's span.
    publish: (type, data, o = {}) =>
      busNamed(d.bus).publish(
        type,
        data,
        chainedOptions(d.subscription, event, o, () => calls++, span?.traceparent),
      ),
  }
  // The duration the object's stats() count: the handler's run here, not the trip through the Queue.
  const started = Date.now()
  try {
    await (span ? span.run(() => sub.handler(event, ctx)) : sub.handler(event, ctx))
    span?.end()
    return { delivery: d.delivery, ok: true, ms: Date.now() - started }
  } catch (e) {
    span?.end({ error: e })
    return { delivery: d.delivery, ok: false, ms: Date.now() - started, error: toWire(e) }
  }
}

/**
 * @internal The Worker's `queue` handler: claims a batch's deliveries from their objects (one RPC
 * per object), runs only those granted, reports their outcomes (one RPC per object); records the
 * dead-letter queue's messages; turns R2 notifications into events.
 *
 * @example
 * export default { queue: queueConsumer({ namespace: env.BUS, options: { subscriptions }, bus, busNamed: () => bus }) }
 */
export const queueConsumer = (context: ConsumerContext) => {
  const { namespace, options, bus } = context
  const chained = chainedPublish(context.busNamed)
  return async function queue(
    batch: MessageBatch,
    env?: unknown,
    execution?: Pick<ExecutionContext, 'waitUntil'>,
  ): Promise<void> {
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
        other.push(publishR2(bus, body, m))
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
              list.map(({ body, m }) => ({ delivery: body.delivery, redelivered: m.attempts > 1 })),
            )) as Reply<(number | null)[]>,
          )
          const granted = list.filter((_, i) => typeof leases[i] === 'number')
          for (const { m } of list.filter((_, i) => typeof leases[i] !== 'number')) m.ack()
          if (!granted.length) return
          const claimed = list.flatMap(({ body }, i) =>
            typeof leases[i] === 'number' ? [{ d: body, ms: leases[i]! }] : [],
          )
          // Single deliveries run one by one; a batch subscription's are merged per subscription.
          const outcomes = (
            await Promise.all([
              ...claimed
                .filter(({ d }) => !d.events)
                .map(({ d, ms }) => run(context, d, ms, env, waitUntil)),
              runBatches(options.subscriptions, chained, claimed, env, waitUntil),
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
  }
}
