import {
  type BatchContext,
  type BusEvent,
  type Clock,
  type HandlerContext,
  NonRetriableError,
} from '../../src/index.js'
import { reportDuration, type Tagged, toTagged } from '../../src/internal.js'
import { alarmKeeper } from './_alarm.js'
import { runtimeDied } from './_runtime-died.js'
import { sendInChunks, type Outgoing } from './_outbox.js'
import { fromWire, type WireError } from './_wire.js'

/** @internal The body of one delivery on the Queue. @example if (isDelivery(msg.body)) ... */
export interface DeliveryMessage {
  kind: 'tidings.delivery'
  /** `<subscription>/<seq>/<attempt>/<nonce>`: the lease this outcome answers. */
  delivery: string
  /** The object's id (hex), so the Worker can answer the shard that sent it. */
  object: string
  /** The bus's name (the object's name without `:<shard>`), where chained publishes go. */
  bus?: string
  subscription: string
  attempt: number
  /** When the lease lapses (epoch ms): the handler's signal aborts then. */
  deadline: number
  /** The event in superjson form (the Queue message is JSON, measured like the event's size limit). */
  event?: Tagged
  /** A batch subscription's delivery: its batch's events, in seq order, in one message. */
  events?: Tagged[]
}

/**
 * @internal What the Worker reports for one delivery; `ms`: how long the handler ran in the Worker,
 * the duration the object's metrics count (not the round trip through the Queue).
 *
 * @example
 * const o: Outcome = { delivery, ok: true, ms: 12 }
 */
export type Outcome =
  | { delivery: string; ok: true; ms?: number; failed?: FailedEvent[] }
  | { delivery: string; ok: false; ms?: number; error: WireError }

/** @internal One event a batch handler marked failed. @example const f: FailedEvent = { seq: 3, error: { name: 'Error', message: 'x' } } */
export interface FailedEvent {
  seq: number
  error: WireError
}

/** @internal Whether a Queue message body is one of ours. @example isDelivery({ kind: 'tidings.delivery' }) */
export const isDelivery = (body: unknown): body is DeliveryMessage =>
  typeof body === 'object' &&
  body !== null &&
  (body as { kind?: unknown }).kind === 'tidings.delivery'

const utf8 = new TextEncoder()

/** @internal A delivery a Worker took to run: what the object journals until its outcome is known. @example const c: Claimed = { subscription: 'mailer', seq: 3, attempt: 1 } */
export interface Claimed {
  subscription: string
  seq: number
  attempt: number
}

/** @internal What the Worker asks of one delivery it received. @example const r: ClaimRequest = { delivery: 'mailer/3/1/a', redelivered: false } */
export interface ClaimRequest {
  delivery: string
  redelivered: boolean
}

export { runtimeDied } from './_runtime-died.js'

/** A delivery sent and waiting for its outcome: its lease, and the attempt it settles. */
interface Lease extends Claimed {
  /** The delivery's events: one, or a batch's (each is charged if the runtime dies with it out). */
  seqs: number[]
  deadline: number
  claimed: boolean
  /** The handler context (single or batch) the runner reads the Worker's duration from. */
  context: object
  resolve(failed?: FailedEvent[]): void
  reject(e: unknown): void
}

/** Settles the leases that outcomes answer; returns how many matched a live lease. */
const settleLeases = (pending: Map<string, Lease>, outcomes: readonly Outcome[]): number => {
  let n = 0
  for (const o of outcomes) {
    const p = pending.get(o.delivery)
    if (!p) continue
    n++
    if (typeof o.ms === 'number' && o.ms >= 0 && o.ms < 86_400_000) reportDuration(p.context, o.ms)
    if (o.ok) p.resolve(o.failed)
    else p.reject(fromWire(o.error))
  }
  return n
}

/** Records as dead letters the deliveries the Queue dead-lettered unclaimed; returns how many. */
const loseLeases = (pending: Map<string, Lease>, deliveries: readonly string[]): number => {
  let n = 0
  for (const d of deliveries) {
    const p = pending.get(d)
    if (!p || p.claimed) continue
    n++
    p.reject(
      new NonRetriableError(
        `delivery ${d} reached the Queue's dead-letter queue (transport retries exhausted)`,
      ),
    )
  }
  return n
}

/** What {@link send} needs of its object: ids, the clock, the leases, the alarm and the outbox. */
interface SendContext {
  id: string
  bus: string | undefined
  clock: Clock
  pending: Map<string, Lease>
  alarm: ReturnType<typeof alarmKeeper>
  nonce: () => number
  enqueue: (outgoing: Outgoing<DeliveryMessage>) => void
}

/**
 * Sends one delivery (one event, or a batch's events) and resolves with the events the Worker
 * reported failed; the Worker's duration is reported on `ctx`, where the runner reads it.
 */
const send = (
  { id, bus, clock, pending, alarm, nonce, enqueue }: SendContext,
  subscription: string,
  timeout: number,
  events: BusEvent[],
  ctx: HandlerContext | BatchContext,
  single: boolean,
): Promise<FailedEvent[]> =>
  new Promise<FailedEvent[]>((resolve, reject) => {
    const first = events[0]!
    const delivery = `${subscription}/${first.seq}/${ctx.attempt}/${nonce().toString(36)}`
    const deadline = clock.now() + timeout
    const body: DeliveryMessage = {
      kind: 'tidings.delivery',
      delivery,
      object: id,
      ...(bus ? { bus } : {}),
      subscription,
      attempt: ctx.attempt,
      deadline,
      ...(single ? { event: toTagged(first) } : { events: events.map((event) => toTagged(event)) }),
    }
    // An object that dies now is woken by its alarm soon (not at the lease's end) and re-sends.
    const recovery = alarm.hold(timeout)
    const done = () => {
      pending.delete(delivery)
      alarm.release(recovery)
    }
    pending.set(delivery, {
      subscription,
      seq: first.seq,
      seqs: events.map((event) => event.seq),
      attempt: ctx.attempt,
      deadline,
      claimed: false,
      context: ctx,
      resolve: (failed = []) => {
        done()
        resolve(failed)
      },
      reject: (e) => {
        done()
        reject(e)
      },
    })
    // The lease lapsed (or the bus closed): a late outcome for it is ignored, a late claim refused.
    ctx.signal.addEventListener('abort', done, { once: true })
    enqueue({
      body,
      bytes: utf8.encode(JSON.stringify(body)).length,
      reject: (e) => pending.get(delivery)?.reject(e),
    })
  })

/**
 * @internal The object's side of Queue delivery. A subscription's handler (run by the core's
 * runner, which owns ordering-key lanes, timeouts, retries and dead letters) sends the event to the
 * Queue and waits for the outcome that the Worker reports back by RPC. The attempt's timeout is the
 * lease: when it lapses the core counts a failure and re-sends after the backoff.
 *
 * Before running a handler the Worker claims the delivery: only a delivery whose lease is live and
 * that no other Worker took may run, so a Queue message delivered twice, late, or after its event
 * was acknowledged runs nothing. Claims are journaled (`journal`, one write per claim RPC) so that
 * the next incarnation of the object counts the attempts this one had running when it died.
 *
 * @example
 * const d = queueDelivery(env.DELIVERY, ctx.id, clock, (claimed) => journal.write(claimed))
 * await bus.subscribe('mailer', 'user.*', d.handler('mailer', 30_000))
 */
export const queueDelivery = (
  queue: Queue,
  object: DurableObjectId,
  clock: Clock,
  journal: (claimed: Claimed[]) => void,
) => {
  const id = object.toString()
  const bus = object.name?.replace(/:\d+$/, '')
  const pending = new Map<string, Lease>()
  let outbox: Outgoing<DeliveryMessage>[] = []
  let nonce = 0

  // Sends made in one tick go out together, in chunks the Queue accepts.
  const flush = async () => {
    const all = outbox
    outbox = []
    await sendInChunks(queue, all)
  }

  // The alarm is kept close while deliveries are out, and after an append until they are.
  const alarm = alarmKeeper(clock)
  const sending: SendContext = {
    id,
    bus,
    clock,
    pending,
    alarm,
    nonce: () => ++nonce,
    enqueue: (outgoing) => {
      if (!outbox.length) queueMicrotask(() => void flush())
      outbox.push(outgoing)
    },
  }

  return {
    /** Events were just appended: an object that dies before their deliveries go out is woken to send them (see alarmKeeper). */
    keepAwake: alarm.keepAwake,

    handler:
      (subscription: string, timeout: number) =>
      async (event: BusEvent, ctx: HandlerContext): Promise<void> => {
        const failed = await send(sending, subscription, timeout, [event], ctx, true)
        if (failed[0]) throw fromWire(failed[0].error)
      },

    /**
     * A batch subscription's handler: the batch goes out as one message (one lease, one claim), so
     * a key's events stay in order in one handler call; the events the Worker reports failed are
     * marked failed (the runner retries each alone), a failed delivery fails the batch.
     */
    batchHandler:
      (subscription: string, timeout: number) =>
      async (events: BusEvent[], ctx: BatchContext): Promise<void> => {
        const failed = await send(sending, subscription, timeout, events, ctx, false)
        const bySeq = new Map(events.map((event) => [event.seq, event]))
        for (const { seq, error } of failed) {
          const event = bySeq.get(seq)
          if (event) ctx.fail(event, fromWire(error))
        }
      },

    /**
     * The Worker asks to run these deliveries: for each, the ms left of its lease when it may run,
     * or null when it must not (acknowledged, lapsed, or taken by another Worker). A redelivered
     * message whose delivery was taken means the runtime that took it died: that attempt fails now.
     */
    claim(requests: readonly ClaimRequest[]): (number | null)[] {
      const now = clock.now()
      let took = false
      const out = requests.map(({ delivery, redelivered }) => {
        const p = pending.get(delivery)
        if (!p || p.deadline <= now) return null
        if (p.claimed) {
          if (redelivered)
            p.reject(runtimeDied(p.subscription, p.seq, p.attempt, 'the Queue delivered it again'))
          return null
        }
        p.claimed = took = true
        return p.deadline - now
      })
      if (took)
        journal(
          [...pending.values()]
            .filter((p) => p.claimed)
            .flatMap(({ subscription, seqs, attempt }) =>
              seqs.map((seq) => ({ subscription, seq, attempt })),
            ),
        )
      return out
    },

    /** Outcomes from the Worker; returns how many matched a live lease. */
    settle: (outcomes: readonly Outcome[]): number => settleLeases(pending, outcomes),

    /**
     * Deliveries that reached the Queue's own dead-letter queue without running: recorded as dead
     * letters here. One a Worker took is the lease's to settle, not the transport's.
     */
    lost: (deliveries: readonly string[]): number => loseLeases(pending, deliveries),
  }
}
