import {
  type BatchContext,
  type BusEvent,
  type Clock,
  type HandlerContext,
  NonRetriableError,
} from '../../src/index.js'
import { type Tagged, toTagged } from '../../src/internal.js'
import { alarmKeeper } from './_alarm.js'
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

/** @internal What the Worker reports for one delivery. @example const o: Outcome = { delivery, ok: true } */
export type Outcome =
  | { delivery: string; ok: true; failed?: FailedEvent[] }
  | { delivery: string; ok: false; error: WireError }

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

// Queues: at most 100 messages and 256 KB per sendBatch.
const BATCH_MESSAGES = 100
const BATCH_BYTES = 250_000
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

/**
 * @internal The error of an attempt whose runtime died before it reported an outcome (an isolate
 * killed mid-handler, an object restarted): the attempt counts, as any delivery does.
 *
 * @example
 * throw runtimeDied('mailer', 3, 2)
 */
export const runtimeDied = (
  subscription: string,
  seq: number,
  attempt: number,
  how: string,
): Error =>
  Object.assign(
    new Error(
      `the runtime running attempt ${attempt} of #${seq} in "${subscription}" died before reporting an outcome (${how})`,
    ),
    { name: 'RuntimeDied' },
  )

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
  interface Lease extends Claimed {
    seqs: number[]
    deadline: number
    claimed: boolean
    resolve(failed?: FailedEvent[]): void
    reject(e: unknown): void
  }
  const pending = new Map<string, Lease>()
  let outbox: { body: DeliveryMessage; bytes: number; reject(e: unknown): void }[] = []
  let nonce = 0

  // Sends made in one tick go out together, in chunks the Queue accepts.
  const flush = async () => {
    const all = outbox
    outbox = []
    for (let i = 0; i < all.length;) {
      const chunk: typeof all = []
      for (
        let bytes = 0;
        i < all.length && chunk.length < BATCH_MESSAGES && bytes + all[i]!.bytes <= BATCH_BYTES;
        i++
      ) {
        bytes += all[i]!.bytes
        chunk.push(all[i]!)
      }
      if (!chunk.length) chunk.push(all[i++]!)
      try {
        await queue.sendBatch(chunk.map((m) => ({ body: m.body, contentType: 'json' as const })))
      } catch (e) {
        // Not sent: the attempt fails now rather than at the end of its lease.
        for (const m of chunk) m.reject(e)
      }
    }
  }

  // The alarm is kept close while deliveries are out, and after an append until they are.
  const alarm = alarmKeeper(clock)

  /** Sends one delivery (one event, or a batch's events) and resolves with the events the Worker reported failed. */
  const send = (
    subscription: string,
    timeout: number,
    events: BusEvent[],
    ctx: Pick<HandlerContext, 'attempt' | 'signal'>,
    batch: boolean,
  ) =>
    new Promise<FailedEvent[]>((resolve, reject) => {
      const first = events[0]!
      const delivery = `${subscription}/${first.seq}/${ctx.attempt}/${(++nonce).toString(36)}`
      const deadline = clock.now() + timeout
      const body: DeliveryMessage = {
        kind: 'tidings.delivery',
        delivery,
        object: id,
        ...(bus ? { bus } : {}),
        subscription,
        attempt: ctx.attempt,
        deadline,
        ...(batch
          ? { events: events.map((event) => toTagged(event)) }
          : { event: toTagged(first) }),
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
      if (!outbox.length) queueMicrotask(() => void flush())
      outbox.push({
        body,
        bytes: utf8.encode(JSON.stringify(body)).length,
        reject: (e) => pending.get(delivery)?.reject(e),
      })
    })

  return {
    /** Events were just appended: an object that dies before their deliveries go out is woken to send them (see alarmKeeper). */
    keepAwake: alarm.keepAwake,

    handler:
      (subscription: string, timeout: number) =>
      async (event: BusEvent, ctx: HandlerContext): Promise<void> => {
        const failed = await send(subscription, timeout, [event], ctx, false)
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
        const failed = await send(subscription, timeout, events, ctx, true)
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
      // A batch's delivery is one per event: each is charged if this runtime dies with it out.
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
    settle(outcomes: readonly Outcome[]): number {
      let n = 0
      for (const o of outcomes) {
        const p = pending.get(o.delivery)
        if (!p) continue
        n++
        if (o.ok) p.resolve(o.failed)
        else p.reject(fromWire(o.error))
      }
      return n
    },

    /**
     * Deliveries that reached the Queue's own dead-letter queue without running: recorded as dead
     * letters here. One a Worker took is the lease's to settle, not the transport's.
     */
    lost(deliveries: readonly string[]): number {
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
    },
  }
}
