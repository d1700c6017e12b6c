import { fromTagged } from '../../src/internal.js'
import type { Bus, BusEvent } from '../../src/index.js'
import { chainedPublish, runBatches } from './_batches.js'
import { isDelivery, type DeliveryMessage, type Outcome } from './_delivery.js'
import { isR2Notification, r2Event } from './r2.js'
import type { BusNamespace, Stub } from './_stubs.js'
import type { EdgeHandlerContext, Subscriptions } from './subscriptions.js'
import { toWire, unwrap, type Reply } from './_wire.js'

/** @internal What the Worker's `queue()` needs: the bindings, the handlers, and where publishes go. @example const c: ConsumerContext = { namespace: env.BUS, options: {}, bus, busNamed: () => bus } */
export interface ConsumerContext {
  namespace: BusNamespace
  options: { subscriptions?: Subscriptions | undefined; deadLetterQueue?: string | undefined }
  /** Where R2 notifications are published. */
  bus: Pick<Bus, 'publish'>
  /** The bus of that name (an event's own bus), where a handler's chained publishes go. */
  busNamed: (name: string | undefined) => Pick<Bus, 'publish'>
}

/**
 * @internal The Worker's `queue` handler: claims a batch's deliveries from their objects (one RPC
 * per object), runs only those granted, reports their outcomes (one RPC per object); records the
 * dead-letter queue's messages; turns R2 notifications into events.
 *
 * @example
 * export default { queue: queueConsumer({ namespace: env.BUS, options: { subscriptions }, bus, busNamed: () => bus }) }
 */
export const queueConsumer = ({ namespace, options, bus, busNamed }: ConsumerContext) => {
  const chained = chainedPublish(busNamed)

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
                .map(({ d, ms }) => run(d, ms, env, waitUntil)),
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
