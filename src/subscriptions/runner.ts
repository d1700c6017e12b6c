import { NonRetriableError, RetryAfterError, TidingsError } from '../errors.js'
import type { BusEvent, EventMap } from '../event.js'
import type { Check, Mutation, Store } from '../store/store.js'
import { keys } from '../store/keys.js'
import { chainedOptions } from './chained.js'
import type { Log } from '../log/log.js'
import type { Host, SubRecord } from './subscriptions.js'

/** Retry policy of a subscription; every field defaults on its own (see README, Defaults). */
export interface RetryOptions {
  /** Tries in all, the first included. Default 5. */
  attempts?: number
  backoff?: { initial?: number; factor?: number; max?: number; jitter?: boolean }
}

/**
 * What a handler gets besides the event, typed by the bus's event map (`I`, what `publish`
 * takes). Written bare, it fits a handler of any bus.
 *
 * @example
 * await bus.subscribe('inventory', 'order.placed', async (e, ctx: HandlerContext<Events>) => {
 *   await ctx.publish('inventory.reserved', { order: e.data.id })
 * })
 */
export interface HandlerContext<I extends EventMap = any> {
  /** 1 on the first try. */
  attempt: number
  /** Aborts when the attempt times out or the bus closes. */
  signal: AbortSignal
  /** A chained publish: causation, correlation and trace carried over, and an id stable across retries. */
  publish<T extends keyof I & string>(type: T, data: I[T], options?: { id?: string; key?: string }): Promise<unknown>
}

/** A stored failure: the retry state of one event in one subscription. */
interface RetryRecord { attempt: number; due: number; error?: { name: string; message: string }; event?: BusEvent }

/** One event that ran out of attempts (or threw `NonRetriableError`) in one subscription. */
export interface DeadLetter {
  /** `<subscription>/<seq>`: what `redrive` and `discard` take. */
  id: string
  subscription: string
  event: BusEvent
  error: { name: string; message: string }
  attempts: number
  failedAt: number
}

/** `ac` is made on first use of `ctx.signal` (an AbortController costs microseconds); `aborted` keeps the reason. */
interface Attempt { event: BusEvent; n: number; ac?: AbortController; aborted?: unknown; timer: unknown; over: boolean }
const abort = (a: Attempt, reason: unknown) => { a.aborted ??= reason; a.ac?.abort(reason) }
type Outcome = { seq: number; event: BusEvent; kind: 'ack' } | { seq: number; event: BusEvent; kind: 'retry' | 'dead'; attempt: number; error: unknown; due: number }


/** One flush's share of the consumer ledger: the ids it acknowledged. */
interface LedgerRecord { n: number; t: number; ids: string[] }
const sameNote = (a: DeliveringNote, b: DeliveringNote | undefined) =>
  !!b && a.owner === b.owner && !a.careful === !b.careful && String(a.blame) === String(b.blame) && String(a.seqs) === String(b.seqs)
const seqOf = (key: string) => Number(key.slice(key.lastIndexOf('/') + 1))
const errorOf = (e: unknown) => ({ name: (e as Error)?.name ?? 'Error', message: String((e as Error)?.message ?? e) })

/**
 * What a bus that lets go without releasing (killed, evicted, dropped) leaves in its record: the
 * seqs whose handlers may have been running, as of its last commit; whether it ran careful (every
 * start noted first, one at a time); `blame`: it took over after a death that may be unexplained,
 * and these are the seqs that death was charged to (see `recover`).
 */
export interface DeliveringNote { owner: string; seqs: number[]; careful?: true; blame?: number[] }

/** How a runner starts after taking a subscription over from a holder that died. */
export interface Recovery { careful: boolean; blame?: number[] | undefined }

const died = (n: number, of: number) => {
  const e = new Error(`the runtime running the handler died (attempt ${n} of ${of})`)
  e.name = 'DeliveryError'
  return e
}

/**
 * Counts the deliveries a dead holder had in flight, as mutations for the takeover commit: each
 * noted event's attempt becomes a failed one (a retry due now), or a dead letter after the last.
 * The taker then runs careful: one handler at a time, each start noted in a commit before it runs,
 * so a runtime that dies again is charged to exactly the event that was running. A holder that was
 * not careful may have died of a handler it started after its last commit: the event that next
 * kills a careful holder is charged for that death too, unless that death was charged to it already.
 *
 * @example
 * const { mutations, dead, recovery } = await recover(store, log, 'mailer', rec.cursor, rec.delivering, { attempts: 5 }, clock.now())
 */
export const recover = async (store: Store, log: Log, name: string, cursor: number, note: DeliveringNote, o: { attempts: number }, now: number) => {
  const { attempts } = o
  const mutations: Mutation[] = []
  const dead: DeadLetter[] = []
  const extra = note.careful && note.blame && note.seqs.length === 1 && !note.blame.includes(note.seqs[0]!) ? 1 : 0
  for (const seq of note.seqs) {
    const [retry, acked, gone] = await Promise.all([store.get(keys.retry(name, seq)), store.get(keys.ack(name, seq)), store.get(keys.dead(name, seq))])
    const r = retry?.value as RetryRecord | undefined
    // Settled since it was noted (or never ours to count): nothing ran unaccounted.
    if (acked || gone || (seq < cursor && !r)) continue
    const event = r?.event ?? (await log.read(seq, 1)).find((e) => e.seq === seq)
    if (!event) continue
    const n = Math.min(attempts, (r?.attempt ?? 0) + 1 + extra)
    const error = errorOf(died(n, attempts))
    if (n >= attempts) {
      const d: DeadLetter = { id: `${name}/${seq}`, subscription: name, event, error, attempts: n, failedAt: now }
      dead.push(d)
      mutations.push({ type: 'set', key: keys.dead(name, seq), value: d })
      if (r) mutations.push({ type: 'delete', key: keys.retry(name, seq) })
    } else {
      mutations.push({ type: 'set', key: keys.retry(name, seq), value: { attempt: n, due: now, error, ...(seq < cursor ? { event } : {}) } })
    }
  }
  // A careful holder's death is explained by its note (an empty note passes its blame on).
  const blame = note.careful ? (note.seqs.length ? undefined : note.blame) : note.seqs
  return { mutations, dead, recovery: { careful: true, blame } satisfies Recovery }
}

export interface RunnerOptions {
  name: string
  handler: (event: BusEvent, ctx: HandlerContext) => unknown
  matches: (event: BusEvent) => boolean
  concurrency: number
  attempts: number
  backoff: { initial: number; factor: number; max: number; jitter: boolean }
  timeout: number
  /** The consumer ledger's bounds: how long and how many handled ids are remembered. */
  ledger: { window: number; max: number }
  /** Whether what runs is noted in the record so a taker counts it when this runtime dies. */
  countDeadRuntimes: boolean
}

/**
 * Runs one durable subscription on this bus while it holds the lease: keeps its cursor, acks
 * above the cursor, retries and dead letters in the store, and dispatches in ordering-key lanes.
 * An attempt stays in flight until its outcome is committed, so no event runs twice at once.
 */
export const createRunner = (host: Host, o: RunnerOptions, record: SubRecord, version: string, recovery?: Recovery) => {
  const { store, clock, log, owner } = host
  const { name } = o
  let rec = record
  let recVersion: string | null = version
  let cursor = rec.cursor
  // Seqs at or above the cursor that are done: acked, dead-lettered, or not matching.
  const done = new Set<number>()
  const retries = new Map<number, RetryRecord>()
  // Attempts from start until their outcome is committed (so no event runs twice at once), and
  // how many of their handlers still run (what `concurrency` bounds: a finished handler frees its
  // slot while its ack commits, so acks batch up; its key stays held until the commit lands).
  const inflight = new Map<number, Attempt>()
  let running = 0
  let pumpSoon = false
  // The consumer ledger: ids handled here, so an event appended again under a new seq (after the
  // publish dedup window, or arriving twice over a bridge) is not handled twice.
  const handled = new Set<string>()
  let ledger: LedgerRecord[] = []
  let lh = 0
  // Fetched, matching events at or after the cursor, oldest first; `bh` is the head (no shifting).
  let buffer: BusEvent[] = []
  let bh = 0
  let fetched = cursor
  let caughtUp = false
  let outcomes: Outcome[] = []
  let flushing: Promise<void> | undefined
  let filling: Promise<void> | undefined
  let timer: unknown
  let stopped = false
  // Closing with a grace period: nothing new starts; `idle` hears when the last handler ends.
  let draining = false
  let idle: (() => void)[] = []
  // A lease change to write with the next flush (undefined: none; null: release it).
  let lease: SubRecord['lease'] | null | undefined
  // Bumped by replay: attempts started before it report into the void.
  let epoch = 0
  // Deliveries are counted durably by noting in the record, with each commit the runner makes
  // anyway (acks, lease renewals), the seqs whose handlers run: a bus that takes over from one that
  // died counts those. `noted` is what the record says now. After such a takeover the runner is
  // careful: an event starts only once a commit has noted it (`wanted` waits for that commit), so
  // a runtime that dies again is counted exactly; it stops being careful once it has caught up.
  let careful = recovery?.careful ?? false
  let blame = recovery?.blame
  // Careful costs a commit per start: it ends once caught up, or after this many outcomes.
  let carefulLeft = 100
  /** Careful, one at a time: the event that kills again is the one noted. */
  const slots = () => careful ? 1 : o.concurrency
  let noted = new Set<number>(rec.delivering?.owner === owner ? rec.delivering.seqs : [])
  const wanted = new Set<number>()
  const flushSoon = () => { flushing ??= Promise.resolve().then(flush).catch(flushFailed) }

  const load = async () => {
    const [acks, rs, dead, led] = await Promise.all([
      store.list({ prefix: keys.acks(name) }), store.list({ prefix: keys.retries(name) }), store.list({ prefix: keys.deadLetters(name) }), store.list({ prefix: keys.ledgers(name) }),
    ])
    done.clear(); retries.clear(); buffer = []; bh = 0; handled.clear()
    ledger = led.map((e) => e.value as LedgerRecord)
    lh = 0
    for (const r of ledger) for (const id of r.ids) handled.add(id)
    cursor = rec.cursor; fetched = cursor; caughtUp = false
    for (const a of acks) done.add(seqOf(a.key))
    for (const d of dead) if (seqOf(d.key) >= cursor) done.add(seqOf(d.key))
    for (const r of rs) retries.set(seqOf(r.key), r.value as RetryRecord)
  }

  // Set when events are appended while a read is under way: the read may have missed them.
  let appended = false
  const fill = () => filling ??= (async () => {
    try {
      while (!stopped && !draining && buffer.length - bh < 512) {
        appended = false
        const got = await log.read(fetched, 256)
        take(got)
        if (got.length < 256 && !appended) { caughtUp = true; break }
      }
    } finally { filling = undefined }
    pump()
  })()
  const refill = () => void fill().catch((e) => host.onError(e, { subscription: name }))

  const take = (events: readonly BusEvent[]) => {
    for (const e of events) {
      // A long backlog stays in the store, not in memory: read it in pages as the buffer drains.
      if (buffer.length - bh > 4096) { caughtUp = false; return }
      if (e.seq < fetched) continue
      fetched = e.seq + 1
      if (done.has(e.seq)) continue
      if (o.matches(e) && !handled.has(e.id)) buffer.push(e)
      else done.add(e.seq)
    }
  }

  /** Starts what can start: in seq order, one per key, within the concurrency bound. */
  const pump = () => {
    if (stopped || draining) return
    advance()
    const now = clock.now()
    const blocked = new Set<string>()
    let next = Infinity
    const consider = (e: BusEvent, r: RetryRecord | undefined): boolean => {
      if (inflight.has(e.seq) || wanted.has(e.seq)) { if (e.key !== undefined) blocked.add(e.key); return true }
      if (e.key !== undefined && blocked.has(e.key)) return true
      if (e.key !== undefined) blocked.add(e.key)
      if (r && r.due > now) { next = Math.min(next, r.due); return true }
      if (running + wanted.size >= slots()) return false
      if (careful && !noted.has(e.seq)) wanted.add(e.seq)
      else start(e, r)
      return true
    }
    for (let i = bh; i < buffer.length; i++) {
      const e = buffer[i]!
      if (!done.has(e.seq) && !consider(e, retries.get(e.seq))) break
    }
    // Redriven events sit below the cursor with their event; they queue behind their key's lane.
    for (const [seq, r] of retries) if (seq < cursor && r.event && !consider(r.event, r)) break
    clock.clearTimer(timer)
    timer = next < Infinity ? clock.setTimer(next, pump) : undefined
    // Persist a cursor that moved over non-matching events, so retention is not pinned by them;
    // and, careful, note what is about to start.
    if (cursor > rec.cursor || wanted.size) flushSoon()
    // Caught up with nothing running: whatever the dead holder left is settled.
    if (careful && ((caughtUp && !inflight.size && !wanted.size && firstUndone()[1] >= buffer.length) || carefulLeft <= 0)) { careful = false; blame = undefined }
    if (!caughtUp && buffer.length - bh < 256) refill()
    host.activity()
  }

  /** Where the cursor stands when `extra` seqs are done too: the first undone event, or all fetched. */
  const firstUndone = (extra?: Set<number>): [cursor: number, index: number] => {
    let i = bh
    while (i < buffer.length && (done.has(buffer[i]!.seq) || extra?.has(buffer[i]!.seq))) i++
    return [buffer[i]?.seq ?? fetched, i]
  }

  /** Drops done events from the front of the buffer and moves the cursor past them. */
  const advance = () => {
    const [to, i] = firstUndone()
    bh = i
    if (bh > 1024 && bh * 2 > buffer.length) { buffer = buffer.slice(bh); bh = 0 }
    for (const s of done) if (s < to) done.delete(s)
    cursor = Math.max(cursor, to)
  }

  const start = (event: BusEvent, r: RetryRecord | undefined) => {
    const n = (r?.attempt ?? 0) + 1
    const a: Attempt = { event, n, timer: undefined, over: false }
    const at = epoch
    inflight.set(event.seq, a)
    running++
    const end = (error: unknown, ok: boolean) => {
      if (a.over) return
      a.over = true
      clock.clearTimer(a.timer)
      // A replay or stop reset the count and dropped this attempt: its result goes nowhere.
      if (at !== epoch || stopped) return
      running--
      if (!running) for (const r of idle.splice(0)) r()
      // The slot is free now: start the next one while this outcome commits.
      if (!pumpSoon) { pumpSoon = true; queueMicrotask(() => { pumpSoon = false; pump() }) }
      const now = clock.now()
      if (ok) return report({ seq: event.seq, event, kind: 'ack' })
      const dead = error instanceof NonRetriableError || n >= o.attempts
      const { initial, factor, max, jitter } = o.backoff
      const backoff = Math.min(max, initial * factor ** (n - 1))
      const wait = error instanceof RetryAfterError ? error.retryAfter : jitter ? Math.random() * backoff : backoff
      report({ seq: event.seq, event, kind: dead ? 'dead' : 'retry', attempt: n, error, due: now + wait })
    }
    a.timer = clock.setTimer(clock.now() + o.timeout, () => {
      abort(a, new TidingsError('TIMEOUT', `attempt ${n} of "${event.type}" #${event.seq} in "${name}" passed ${o.timeout} ms`))
      end(a.aborted, false)
    })
    let calls = 0
    const ctx: HandlerContext = {
      attempt: n,
      get signal() {
        if (!a.ac) { a.ac = new AbortController(); if (a.aborted !== undefined) a.ac.abort(a.aborted) }
        return a.ac.signal
      },
      publish: (type, data, opts = {}) => host.publish(type, data, chainedOptions(name, event, opts, () => calls++)),
    }
    try {
      const p = o.handler(event, ctx)
      // Any thenable counts (another realm's Promise, a library's): the ack waits for it.
      if (typeof (p as PromiseLike<void> | undefined)?.then === 'function') Promise.resolve(p).then(() => end(undefined, true), (e) => end(e, false))
      else end(undefined, true)
    } catch (e) { end(e, false) }
  }

  /** Queues an outcome; outcomes of one tick share one commit, and the attempt stays in flight until it lands. */
  const report = (out: Outcome) => {
    outcomes.push(out)
    flushing ??= Promise.resolve().then(flush).catch(flushFailed)
  }

  // A flush that throws (reclaiming failed too) leaves the outcomes to be found again on reload.
  const flushFailed = (e: unknown) => { flushing = undefined; host.onError(e, { subscription: name }) }

  const flush = async () => {
    const batch = outcomes
    outcomes = []
    const now = clock.now()
    const mutations: Mutation[] = []
    const dead: DeadLetter[] = []
    // Where the cursor lands once these are done: acks are written only above it.
    const [to] = firstUndone(new Set(batch.filter((b) => b.kind !== 'retry').map((b) => b.seq)))
    for (const out of batch) {
      const { seq, event } = out
      if (retries.has(seq)) mutations.push({ type: 'delete', key: keys.retry(name, seq) })
      if (out.kind === 'retry') {
        mutations.push({ type: 'set', key: keys.retry(name, seq), value: { attempt: out.attempt, due: out.due, error: errorOf(out.error), ...(seq < cursor ? { event } : {}) } })
      } else {
        if (out.kind === 'dead') {
          const d = { id: `${name}/${seq}`, subscription: name, event, error: errorOf(out.error), attempts: out.attempt, failedAt: now }
          dead.push(d)
          mutations.push({ type: 'set', key: keys.dead(name, seq), value: d })
        } else if (seq >= cursor && seq >= to) mutations.push({ type: 'set', key: keys.ack(name, seq), value: 1 })
      }
    }
    const acked = batch.filter((b) => b.kind === 'ack').map((b) => b.event.id)
    const entry: LedgerRecord | undefined = acked.length ? { n: (ledger[ledger.length - 1]?.n ?? 0) + 1, t: now, ids: acked } : undefined
    if (entry) mutations.push({ type: 'set', key: keys.ledger(name, entry.n), value: entry })
    // The ledger keeps what is within its window and size; older records go whole.
    let forget = lh
    for (let kept = handled.size + acked.length; forget < ledger.length; forget++) {
      const r = ledger[forget]!
      if (r.t >= now - o.ledger.window && kept <= o.ledger.max) break
      kept -= r.ids.length
      mutations.push({ type: 'delete', key: keys.ledger(name, r.n) })
    }
    const was = rec.cursor
    const checks: Check[] = [{ key: keys.sub(name), version: recVersion }]
    let next = rec
    const releasing = lease === null
    if (lease !== undefined) {
      next = { ...rec }
      if (lease) next.lease = lease
      else { delete next.lease; delete next.delivering; next.detached = now }
      lease = undefined
    }
    // The handlers still running once this batch lands, and those about to start.
    const settled = new Set(batch.map((b) => b.seq))
    const note: DeliveringNote = { owner, seqs: [...inflight.keys()].filter((s) => !settled.has(s)).concat([...wanted]).sort((a, b) => a - b) }
    if (careful) { note.careful = true; if (blame) note.blame = blame }
    if (o.countDeadRuntimes && !releasing && !sameNote(note, rec.delivering)) next = { ...next, delivering: note }
    if (to > was) {
      next = { ...next, cursor: to }
      mutations.push({ type: 'deleteRange', start: keys.ack(name, was), end: keys.ack(name, to) })
    }
    if (next !== rec) mutations.push({ type: 'set', key: keys.sub(name), value: next })
    let ok = false
    try {
      const res = await store.commit({ checks, mutations })
      if (res.ok) {
        ok = true
        if (next !== rec) { rec = next; recVersion = res.version; host.pin(name, rec.cursor) }
        noted = new Set(rec.delivering?.owner === owner ? rec.delivering.seqs : [])
        for (const s of noted) wanted.delete(s)
      }
    } catch (e) {
      host.onError(e, { subscription: name })
    }
    flushing = undefined
    if (!ok) {
      // The record changed under us (replay, takeover) or the store failed: start over from storage.
      for (const out of batch) inflight.delete(out.seq)
      wanted.clear()
      await host.reclaim(name)
      return
    }
    if (careful) carefulLeft -= batch.length
    for (const out of batch) {
      inflight.delete(out.seq)
      if (out.kind === 'retry') retries.set(out.seq, { attempt: out.attempt, due: out.due, ...(out.seq < cursor ? { event: out.event } : {}) })
      else { retries.delete(out.seq); if (out.seq >= cursor) done.add(out.seq) }
    }
    if (to > cursor) cursor = to
    for (; lh < forget; lh++) { for (const id of ledger[lh]!.ids) handled.delete(id); ledger[lh] = undefined! }
    if (lh > 64 && lh * 2 > ledger.length) { ledger = ledger.slice(lh); lh = 0 }
    if (entry) { ledger.push(entry); for (const id of acked) handled.add(id) }
    for (const d of dead) host.onError(d.error, { event: d.event, subscription: name })
    if (outcomes.length || lease !== undefined || wanted.size) flushSoon()
    pump()
  }

  return {
    get version() { return recVersion },
    load,
    /** New events appended to the log (by this bus or, through watch, another). */
    notify(events: readonly BusEvent[]) {
      if (stopped) return
      if (filling) appended = true
      if (caughtUp && events[0] && events[0].seq <= fetched) take(events)
      else caughtUp = false
      pump()
    },
    pump,
    /** Renews (or, with null, releases) the lease in the next commit; resolves when it has landed. */
    async lease(next: SubRecord['lease'] | null): Promise<void> {
      lease = next
      while (lease !== undefined || flushing) await (flushing ??= Promise.resolve().then(flush).catch(flushFailed))
    },
    /**
     * Adopts a record written elsewhere. A moved cursor (replay) drops everything in flight and
     * reloads; otherwise (a redrive) only the retries are read again.
     */
    async adopt(r: SubRecord, v: string) {
      if (r.cursor !== rec.cursor) {
        epoch++
        for (const a of inflight.values()) { abort(a, new TidingsError('CLOSED', 'replayed')); clock.clearTimer(a.timer) }
        inflight.clear()
        wanted.clear()
        running = 0
        outcomes = []
        rec = r; recVersion = v
        noted = new Set(r.delivering?.owner === owner ? r.delivering.seqs : [])
        await load()
      } else {
        rec = r; recVersion = v
        for (const e of await store.list({ prefix: keys.retries(name) })) {
          const seq = seqOf(e.key)
          if (!inflight.has(seq)) retries.set(seq, e.value as RetryRecord)
        }
      }
      pump()
    },
    stats() {
      const retrying = [...retries.keys()].filter((s) => !inflight.has(s)).length
      let oldest: number | undefined
      for (let i = bh; i < buffer.length && oldest === undefined; i++) if (!done.has(buffer[i]!.seq)) oldest = buffer[i]!.time
      return { inFlight: inflight.size, retrying, lag: Math.max(0, log.head - cursor + 1 - done.size), oldest }
    },
    /** Work that is not a handler's own promise: commits and reads. */
    get working() { return flushing ?? filling },
    /** Resolves when nothing is in flight (handlers included). */
    busy(): boolean { return inflight.size > 0 || !!flushing || !!filling },
    /** Starts nothing more; resolves once no handler of this runner is running. */
    drain(): Promise<void> {
      draining = true
      clock.clearTimer(timer)
      return running ? new Promise((r) => idle.push(r)) : Promise.resolve()
    },
    /** Aborts the running handlers' signals; what they then return or throw is committed as usual. */
    abortRunning(reason: unknown) { for (const a of inflight.values()) if (!a.over) abort(a, reason) },
    stop(reason: unknown) {
      if (stopped) return
      stopped = true
      clock.clearTimer(timer)
      for (const a of inflight.values()) { abort(a, reason); clock.clearTimer(a.timer) }
      inflight.clear()
      wanted.clear()
      running = 0
      for (const r of idle.splice(0)) r()
    },
  }
}

export type Runner = ReturnType<typeof createRunner>


