import { type BusEvent, TidingsError } from '../../src/index.js'
import { chainedOptions, fromTagged } from '../../src/internal.js'
import type { Bus } from '../../src/index.js'
import type { DeliveryMessage, FailedEvent, Outcome } from './_delivery.js'
import type { EdgeBatchContext, EdgeHandlerContext, Subscriptions } from './subscriptions.js'
import { toWire } from './_wire.js'

/** @internal A claimed delivery and the ms left of its lease. @example const c: ClaimedDelivery = { d, ms: 30_000 } */
export interface ClaimedDelivery {
  d: DeliveryMessage
  ms: number
}

/**
 * @internal Batch deliveries of one subscription that arrived in one `queue()` batch, merged into
 * handler calls while they fit in `batch.size`. Merging is safe: a key's events are never in two
 * deliveries out at once, so each key's events stay in one call, in seq order.
 *
 * @example
 * for (const group of batchGroups(subscriptions, claimed)) await runBatch(subscriptions, chained, group, env, waitUntil)
 */
export const batchGroups = (
  subscriptions: Subscriptions | undefined,
  claimed: ClaimedDelivery[],
): ClaimedDelivery[][] => {
  const groups: ClaimedDelivery[][] = []
  const open = new Map<string, { group: ClaimedDelivery[]; size: number }>()
  for (const item of claimed) {
    const limit = subscriptions?.[item.d.subscription]?.batch?.size ?? 1
    const size = item.d.events!.length
    const current = open.get(item.d.subscription)
    if (current && current.size + size <= limit) {
      current.group.push(item)
      current.size += size
      continue
    }
    const group = [item]
    groups.push(group)
    open.set(item.d.subscription, { group, size })
  }
  return groups
}

/**
 * @internal Runs a batch handler over merged deliveries; each delivery's outcome names its events
 * marked failed and carries the call's duration, and a throw fails every delivery of the call.
 *
 * @example
 * const outcomes = await runBatch(subscriptions, chained, [{ d, ms }], env, waitUntil)
 */
export const runBatch = async (
  subscriptions: Subscriptions | undefined,
  chained: (d: DeliveryMessage, event: BusEvent) => EdgeHandlerContext['publish'],
  group: ClaimedDelivery[],
  env: unknown,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Outcome[]> => {
  const { subscription } = group[0]!.d
  const sub = subscriptions?.[subscription]
  if (!sub?.batch)
    return group.map(({ d }) => ({
      delivery: d.delivery,
      ok: false,
      error: {
        name: 'Error',
        message: `no batch handler for subscription "${subscription}" in this Worker`,
      },
    }))
  // The duration the object's stats() count: the handler call here, once per call.
  const started = Date.now()
  try {
    const owner = new Map<number, string>()
    const events = group
      .flatMap(({ d }) =>
        d.events!.map((tagged) => {
          const event = fromTagged(tagged) as BusEvent
          owner.set(event.seq, d.delivery)
          return event
        }),
      )
      .sort((a, b) => a.seq - b.seq)
    const failed = new Map<number, FailedEvent>()
    const ctx: EdgeBatchContext = {
      attempt: Math.max(...group.map(({ d }) => d.attempt)),
      env,
      waitUntil,
      signal: AbortSignal.timeout(Math.max(1, Math.min(...group.map(({ ms }) => ms)))),
      publish: chained(group[0]!.d, events[0]!),
      fail(event, error) {
        const seq = (event as BusEvent | undefined)?.seq
        if (typeof seq !== 'number' || !owner.has(seq))
          throw new TidingsError(
            'INVALID_OPTIONS',
            `ctx.fail takes an event of this batch, got seq ${String(seq)}`,
          )
        failed.set(seq, {
          seq,
          error: toWire(
            error ??
              Object.assign(new Error(`marked failed by the batch handler of "${subscription}"`), {
                name: 'BatchFailure',
              }),
          ),
        })
      },
    }
    await sub.handler(events, ctx)
    const ms = Date.now() - started
    return group.map(({ d }) => ({
      delivery: d.delivery,
      ok: true,
      ms,
      failed: [...failed.values()].filter(({ seq }) => owner.get(seq) === d.delivery),
    }))
  } catch (e) {
    const ms = Date.now() - started
    return group.map(({ d }) => ({ delivery: d.delivery, ok: false, ms, error: toWire(e) }))
  }
}

/**
 * @internal Runs the batch deliveries among `claimed` (the others are left out), merged per
 * subscription by {@link batchGroups}; one outcome per delivery.
 *
 * @example
 * const outcomes = await runBatches(subscriptions, chained, claimed, env, waitUntil)
 */
export const runBatches = async (
  subscriptions: Subscriptions | undefined,
  chained: (d: DeliveryMessage, event: BusEvent) => EdgeHandlerContext['publish'],
  claimed: ClaimedDelivery[],
  env: unknown,
  waitUntil: (p: Promise<unknown>) => void,
): Promise<Outcome[]> => {
  const groups = batchGroups(
    subscriptions,
    claimed.filter(({ d }) => d.events),
  )
  const outcomes = await Promise.all(
    groups.map((group) => runBatch(subscriptions, chained, group, env, waitUntil)),
  )
  return outcomes.flat()
}

/**
 * @internal A handler's chained publish at the edge: caused by `event`, in its correlation, with
 * an id stable across retries, sent to the bus the event came from.
 *
 * @example
 * const chained = chainedPublish(busNamed)
 * const ctx = { ..., publish: chained(delivery, event) }
 */
export const chainedPublish =
  (busNamed: (name: string | undefined) => Pick<Bus, 'publish'>) =>
  (d: DeliveryMessage, event: BusEvent): EdgeHandlerContext['publish'] => {
    let calls = 0
    return (type, data, o = {}) =>
      busNamed(d.bus).publish(
        type,
        data,
        chainedOptions(d.subscription, event, o, () => calls++),
      )
  }
