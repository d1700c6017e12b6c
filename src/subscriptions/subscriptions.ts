import type { Clock } from '../clock/clock.js'
import { keys, prefixEnd, PREFIX, statePrefixes } from '../store/keys.js'
import { checkSubscriptionName } from './name.js'
import { createRunner, recover, type DeadLetter, type DeliveringNote, type HandlerContext, type Recovery, type RetryOptions, type Runner } from './runner.js'
import { fail, TidingsError } from '../errors.js'
import type { BusEvent } from '../event.js'
import { compileFilter, type EventPredicate, type Filter } from '../filter/filter.js'
import type { Log } from '../log/log.js'
import { compilePattern } from '../topic/pattern.js'
import type { Store } from '../store/store.js'
import { coded, describeValue, optionsOf } from '../check.js'

/** What is stored per subscription under `s/<name>`. */
export interface SubRecord {
  name: string
  pattern: string
  filter?: Filter
  /** The first seq not yet handled; everything below it is. */
  cursor: number
  created: number
  lease?: { owner: string; until: number }
  /** When the last handler let go (for expiry). */
  detached?: number
  /** While a bus holds it: the handlers it had running at its last commit; a clean release drops it. */
  delivering?: DeliveringNote
}

/** What the bus lends the subscriptions module. */
export interface Host {
  store: Store
  clock: Clock
  log: Log
  owner: string
  publish(type: string, data: unknown, options: object): Promise<unknown>
  onError(error: unknown, context: { event?: BusEvent; subscription?: string }): void
  /** Something changed: for the manual clock's "until nothing makes progress". */
  activity(): void
  /** Tells retention how far a subscription has got. */
  pin(name: string, cursor: number): void
  unpin(name: string): void
  reclaim(name: string): Promise<void>
  /** Bounds of each subscription's consumer ledger (the publish dedup window and size). */
  ledger: { window: number; max: number }
}

/** Options of `subscribe`. */
export interface SubscribeOptions<Ev = BusEvent> {
  /** Where a new subscription starts. Default `'latest'`: events published after `subscribe` resolves. */
  from?: 'latest' | 'earliest' | { seq: number } | { time: number }
  /** A declarative filter (stored with the subscription) or a function (local only). */
  filter?: Filter | ((event: Ev) => boolean)
  /** Handlers in flight at once, keyed or not. Default 1. */
  concurrency?: number
  retry?: RetryOptions
  /** Per attempt, in ms. Default 30,000. */
  timeout?: number
  /**
   * @internal `false` for an adapter that counts the deliveries of a runtime that died by itself
   * (the Durable Object's claim journal), so they are not counted twice. Default `true`.
   */
  countDeadRuntimes?: boolean
}

/** A handle on a durable subscription attached on this bus. */
export interface Subscription { name: string; close(): Promise<void> }

const positive = (what: string, v: unknown, int = true) => {
  if (v !== undefined && (typeof v !== 'number' || !(v > 0) || (int && !Number.isInteger(v)) || v === Infinity)) {
    fail('INVALID_OPTIONS', `${what} must be a positive ${int ? 'integer' : 'number'}, got ${describeValue(v)}`)
  }
}
/** A start or replay point, checked before anything is read or written. */
const checkPoint = (p: unknown): void => {
  const ok = p === 'latest' || p === 'earliest' || (!!p && typeof p === 'object' && (
    ('seq' in p && Number.isSafeInteger(p.seq) && (p.seq as number) >= 0) || ('time' in p && Number.isFinite(p.time))))
  if (!ok) fail('INVALID_OPTIONS', `from must be 'latest', 'earliest', { seq } or { time }, got ${describeValue(p)}`)
}
const checkName = (name: unknown): void => {
  checkSubscriptionName(name)
}
/** `ids` of redrive and discard: absent (all), or an array of strings. */
const checkIds = (ids: unknown): void => {
  // for-of, not every(): a hole is refused at once, so a huge sparse array is not walked.
  if (ids !== undefined) for (const id of Array.isArray(ids) ? ids as unknown[] : [ids]) if (typeof id !== 'string' || !Array.isArray(ids)) fail('INVALID_OPTIONS', `ids must be an array of dead-letter ids, got ${describeValue(ids)}`)
}
/** Runs an argument check; a getter or Proxy trap that throws becomes INVALID_OPTIONS with it as cause. */
const checking = (f: () => void): void => {
  try { f() } catch (e) { throw coded(e, 'INVALID_OPTIONS', 'reading the arguments threw') }
}

/** Durable subscriptions of one bus: leases, runners, and the admin operations over the store. */
export const createSubscriptions = (base: Omit<Host, 'reclaim'>, { leaseMs, expireAfter }: { leaseMs: number; expireAfter: number }) => {
  const { store, clock, log } = base
  interface Attached { runner?: Runner; make: (rec: SubRecord, version: string, recovery?: Recovery) => Runner; attempts: number; countDeadRuntimes: boolean; timer?: unknown; acquiring?: Promise<void> }
  const attached = new Map<string, Attached>()
  let closed = false

  const read = async (name: string) => {
    const e = await store.get(keys.sub(name))
    return e && { rec: e.value as SubRecord, version: e.version }
  }

  /** Takes the lease when it is free or lapsed, then runs; otherwise waits for it on a timer (and watch). */
  const acquire = (name: string): Promise<void> => {
    const a = attached.get(name)
    if (!a || a.runner || closed) return Promise.resolve()
    // One attempt at a time per name: a watch notification may race the subscribe that caused it.
    return a.acquiring ??= take(name, a).finally(() => { delete a.acquiring })
  }

  const take = async (name: string, a: Attached): Promise<void> => {
    const got = await read(name)
    if (!got) return fail('CLOSED', `subscription "${name}" was deleted`)
    const now = clock.now()
    const lease = got.rec.lease
    if (lease && lease.owner !== base.owner && lease.until > now) {
      clock.clearTimer(a.timer)
      a.timer = clock.setTimer(lease.until, () => void acquire(name).catch(() => {}))
      return
    }
    const rec: SubRecord = { ...got.rec, lease: { owner: base.owner, until: now + leaseMs }, delivering: { owner: base.owner, seqs: [] } }
    delete rec.detached
    if (!a.countDeadRuntimes) delete rec.delivering
    // A holder that let go without releasing (killed, evicted, dropped) left what it had running:
    // each of those deliveries counts, in this same commit.
    const left = got.rec.delivering
    const found = a.countDeadRuntimes && left && left.owner !== base.owner ? await recover(store, log, name, got.rec.cursor, left, a, now) : undefined
    if (found) rec.delivering = { owner: base.owner, seqs: [], careful: true, ...found.recovery.blame && { blame: found.recovery.blame } }
    const res = await store.commit({ checks: [{ key: keys.sub(name), version: got.version }], mutations: [...found?.mutations ?? [], { type: 'set', key: keys.sub(name), value: rec }] })
    if (!res.ok) return take(name, a)
    for (const d of found?.dead ?? []) base.onError(Object.assign(new Error(d.error.message), { name: d.error.name }), { event: d.event, subscription: name })
    if (attached.get(name) !== a) {
      // Closed while taking it: hand the lease back at once rather than let it lapse.
      const back: SubRecord = { ...rec, detached: clock.now() }
      delete back.lease; delete back.delivering
      await store.commit({ checks: [{ key: keys.sub(name), version: res.version }], mutations: [{ type: 'set', key: keys.sub(name), value: back }] })
      return
    }
    const runner = a.make(rec, res.version, found?.recovery)
    a.runner = runner
    base.pin(name, rec.cursor)
    await runner.load()
    runner.pump()
    renew(name)
  }

  const renew = (name: string) => {
    const a = attached.get(name)
    const runner = a?.runner
    if (!a || !runner) return
    // The wait for another bus's lease may still be armed: one timer per name, so close() clears all.
    clock.clearTimer(a.timer)
    a.timer = clock.setTimer(clock.now() + leaseMs / 3, () => {
      // The runner may have been replaced or dropped since (takeover, deletion, close).
      if (attached.get(name) !== a || a.runner !== runner) return
      void runner.lease({ owner: base.owner, until: clock.now() + leaseMs }).then(() => renew(name), (e) => base.onError(e, { subscription: name }))
    })
  }

  const host: Host = {
    ...base,
    /** A commit on the subscription failed its check: adopt the new record if the lease is still ours. */
    async reclaim(name) {
      const a = attached.get(name)
      if (!a?.runner) return
      const got = await read(name)
      if (got && got.rec.lease?.owner === base.owner && got.rec.lease.until > clock.now()) return a.runner.adopt(got.rec, got.version)
      a.runner.stop(new TidingsError('CLOSED', `subscription "${name}" moved to another bus`))
      delete a.runner
      if (got) await acquire(name)
    },
  }

  // Another bus released or changed a subscription: take it over at once, or pick up its changes.
  const unwatch = store.watch?.(PREFIX.subscriptions, (changed) => {
    for (const k of changed) {
      const name = k.slice(2)
      const a = attached.get(name)
      if (!a) continue
      const runner = a.runner
      if (!runner) void acquire(name).catch(() => {})
      // Our own commits notify too, while they are in flight: skip those. A foreign write that
      // lands meanwhile makes our next commit fail its check, which reclaims all the same.
      else if (!runner.working) void (async () => { const got = await read(name); if (got && got.version !== runner.version && !runner.working) await host.reclaim(name) })().catch(() => {})
    }
  })

  const drop = async (name: string) => {
    const existed = !!(await store.get(keys.sub(name)))
    await store.commit({
      mutations: [{ type: 'delete', key: keys.sub(name) }, ...statePrefixes(name).map((p) => ({ type: 'deleteRange' as const, start: p, end: prefixEnd(p) }))],
    })
    base.unpin(name)
    return existed
  }

  /** Deletes subscriptions with no handler attached for `expireAfter`, so they stop pinning retention. */
  const expire = async (records: SubRecord[]) => {
    const now = clock.now()
    const old = records.filter((r) => !(r.lease && r.lease.until > now) && (r.detached ?? r.lease?.until ?? r.created) < now - expireAfter)
    for (const r of old) await drop(r.name)
    return records.filter((r) => !old.includes(r))
  }

  const all = async () => expire((await store.list({ prefix: PREFIX.subscriptions })).map((e) => e.value as SubRecord))

  const startAt = async (from: SubscribeOptions['from'] = 'latest'): Promise<number> => {
    await log.idle()
    if (from === 'latest') return log.head + 1
    if (from === 'earliest') return 0
    if ('seq' in from && Number.isInteger(from.seq) && from.seq >= 0) return from.seq
    if ('time' in from && Number.isFinite(from.time)) {
      for (let at = 0; ;) {
        const page = await log.read(at, 500)
        const hit = page.find((e) => e.time >= from.time)
        if (hit) return hit.seq
        if (page.length < 500) return log.head + 1
        at = page[page.length - 1]!.seq + 1
      }
    }
    return fail('INVALID_OPTIONS', `from must be 'latest', 'earliest', { seq } or { time }, got ${describeValue(from)}`)
  }

  // The lag of subscriptions not running here, kept as events are appended: the events from the
  // cursor on that the pattern and declarative filter match (a function filter lives only where
  // the subscription runs). The first look reads the backlog once; later ones only what is new.
  interface Backlog { cursor: number; shape: string; test: (e: BusEvent) => boolean; through: number; count: number; oldest?: number }
  const backlogs = new Map<string, Backlog>()
  const tally = (b: Backlog, events: readonly BusEvent[]) => {
    for (const e of events) {
      if (e.seq !== b.through) continue
      b.through++
      if (b.test(e)) { b.count++; b.oldest ??= e.time }
    }
  }
  const backlog = async (r: SubRecord): Promise<Backlog> => {
    const shape = JSON.stringify([r.pattern, r.filter])
    let b = backlogs.get(r.name)
    if (!b || b.cursor !== r.cursor || b.shape !== shape) {
      const topic = compilePattern(r.pattern)
      let test: EventPredicate | undefined
      try { test = r.filter && compileFilter(r.filter) } catch { /* written by another version: count by pattern */ }
      b = { cursor: r.cursor, shape, test: (e) => topic(e.type) && (!test || test(e)), through: r.cursor, count: 0 }
      backlogs.set(r.name, b)
    }
    await log.idle()
    while (b.through <= log.head) {
      const page = await log.read(b.through, 500)
      const at = b.through
      tally(b, page)
      // Retention never drops what a cursor pins; a gap means nothing there to count.
      if (b.through === at) b.through = (page[0]?.seq ?? log.head + 1)
      if (page.length < 500) break
    }
    return b
  }
  /** Matching events from the cursor on, less those handled or dead-lettered out of order above it. */
  const detachedLag = async (r: SubRecord) => {
    const [b, acks, dead] = await Promise.all([backlog(r), store.list({ prefix: keys.acks(r.name) }), store.list({ prefix: keys.deadLetters(r.name), start: keys.dead(r.name, r.cursor) })])
    return { lag: Math.max(0, b.count - acks.length - dead.length), oldest: b.oldest }
  }

  const deadLetters = async (subscription?: string) =>
    (await store.list({ prefix: keys.deadLetters(subscription) })).map((e) => e.value as DeadLetter)

  return {
    async subscribe(name: string, pattern: string, handler: (e: BusEvent, ctx: HandlerContext) => unknown, options?: SubscribeOptions): Promise<Subscription> {
      if (closed) fail('CLOSED', 'the bus is closed')
      let o: SubscribeOptions = {}, topic!: (type: string) => boolean, test: EventPredicate | undefined, b: NonNullable<RetryOptions['backoff']> = {}
      checking(() => {
        checkName(name)
        o = { ...optionsOf(options, 'subscribe') }
        if (o.from !== undefined) checkPoint(o.from)
        if (o.retry !== undefined && (!o.retry || typeof o.retry !== 'object' || (o.retry.backoff !== undefined && (!o.retry.backoff || typeof o.retry.backoff !== 'object')))) {
          fail('INVALID_OPTIONS', `retry must be { attempts?, backoff?: { initial?, max?, factor?, jitter? } }, got ${describeValue(o.retry)}`)
        }
        if (typeof handler !== 'function') fail('INVALID_OPTIONS', 'a subscription needs a handler function')
        topic = compilePattern(pattern)
        test = o.filter === undefined ? undefined : compileFilter(o.filter as Filter | EventPredicate)
        // Copies: what was checked is what runs, however the caller's objects change (or throw) later.
        if (o.retry) o.retry = { ...o.retry }
        b = { ...o.retry?.backoff }
        positive('concurrency', o.concurrency); positive('timeout', o.timeout, false); positive('retry.attempts', o.retry?.attempts)
        positive('retry.backoff.initial', b.initial, false); positive('retry.backoff.max', b.max, false); positive('retry.backoff.factor', b.factor, false)
      })
      if (attached.has(name)) fail('ALREADY_SUBSCRIBED', `subscription "${name}" is already attached on this bus`)
      const attempts = o.retry?.attempts ?? 5
      const make = (rec: SubRecord, version: string, recovery?: Recovery) => createRunner(host, {
        name, handler, matches: (e) => topic(e.type) && (!test || test(e)),
        concurrency: o.concurrency ?? 1, attempts, timeout: o.timeout ?? 30_000,
        backoff: { initial: b.initial ?? 1000, factor: b.factor ?? 2, max: b.max ?? 60_000, jitter: b.jitter ?? true },
        ledger: base.ledger, countDeadRuntimes: o.countDeadRuntimes !== false,
      }, rec, version, recovery)
      const entry: Attached = { make, attempts, countDeadRuntimes: o.countDeadRuntimes !== false }
      attached.set(name, entry)
      try {
        for (;;) {
          const got = await read(name)
          const cursor = got ? got.rec.cursor : await startAt(o.from)
          const rec: SubRecord = { ...got?.rec, name, pattern, cursor, created: got?.rec.created ?? clock.now() }
          // A declarative filter is stored with the subscription; a function one lives only here.
          if (o.filter && typeof o.filter !== 'function') rec.filter = o.filter
          else delete rec.filter
          const same = got && got.rec.pattern === pattern && JSON.stringify(got.rec.filter) === JSON.stringify(rec.filter)
          if (!same) {
            const res = await store.commit({ checks: [{ key: keys.sub(name), version: got?.version ?? null }], mutations: [{ type: 'set', key: keys.sub(name), value: rec }] })
            if (!res.ok) continue
          }
          base.pin(name, rec.cursor)
          break
        }
        await acquire(name)
      } catch (e) {
        attached.delete(name)
        throw e
      }
      return {
        name,
        close: async () => {
          const a = attached.get(name)
          if (a !== entry) return
          attached.delete(name)
          clock.clearTimer(a.timer)
          if (!a.runner) return
          a.runner.stop(new TidingsError('CLOSED', `subscription "${name}" closed`))
          await a.runner.lease(null).catch(() => {})
        },
      }
    },

    async subscriptions() {
      const now = clock.now()
      return Promise.all((await all()).map(async (r) => ({
        name: r.name, pattern: r.pattern, attached: !!(r.lease && r.lease.until > now),
        lag: attached.get(r.name)?.runner?.stats().lag ?? (await detachedLag(r)).lag,
      })))
    },

    async deleteSubscription(name: string): Promise<boolean> {
      checkName(name)
      const a = attached.get(name)
      if (a) {
        attached.delete(name)
        clock.clearTimer(a.timer)
        a.runner?.stop(new TidingsError('CLOSED', `subscription "${name}" deleted`))
      }
      return drop(name)
    },

    async replay(name: string, point: { seq: number } | { time: number }) {
      checking(() => { checkName(name); checkPoint(point) })
      const seq = await startAt(point)
      for (;;) {
        const got = await read(name)
        if (!got) return fail('INVALID_OPTIONS', `no subscription "${name}"`)
        // What ran before the point is replayed, not counted as died.
        const rec: SubRecord = { ...got.rec, cursor: seq, ...got.rec.delivering && { delivering: { owner: got.rec.delivering.owner, seqs: [] } } }
        const res = await store.commit({
          checks: [{ key: keys.sub(name), version: got.version }],
          mutations: [{ type: 'set', key: keys.sub(name), value: rec },
            // An explicit replay handles again what the ledger remembers.
            ...['a', 'r', 'l'].map((p) => ({ type: 'deleteRange' as const, start: `${p}/${name}/`, end: prefixEnd(`${p}/${name}/`) }))],
        })
        if (!res.ok) continue
        base.pin(name, seq)
        const runner = attached.get(name)?.runner
        if (runner) await runner.adopt(rec, res.version)
        return
      }
    },

    deadLetters: {
      async list(options?: { subscription?: string }) {
        let subscription: unknown
        checking(() => { subscription = optionsOf(options, 'deadLetters.list').subscription; if (subscription !== undefined) checkName(subscription) })
        return deadLetters(subscription as string | undefined)
      },
      async redrive(ids?: readonly string[]) {
        checking(() => checkIds(ids))
        const letters = (await deadLetters()).filter((d) => !ids || ids.includes(d.id))
        const now = clock.now()
        let done = 0
        for (const d of letters) {
          for (;;) {
            const [got, still] = await Promise.all([read(d.subscription), store.get(keys.dead(d.subscription, d.event.seq))])
            if (!got || !still) break
            // Rewriting the record bumps its version, so the bus running it reloads and sees the redrive.
            const res = await store.commit({
              checks: [{ key: keys.sub(d.subscription), version: got.version }, { key: still.key, version: still.version }],
              mutations: [{ type: 'delete', key: keys.dead(d.subscription, d.event.seq) },
                { type: 'set', key: keys.retry(d.subscription, d.event.seq), value: { attempt: 0, due: now, event: d.event } },
                { type: 'set', key: keys.sub(d.subscription), value: got.rec }],
            })
            // The subscription committed meanwhile (a busy one does): read it again and retry.
            if (!res.ok) continue
            done++
            await host.reclaim(d.subscription)
            break
          }
        }
        return done
      },
      async discard(ids?: readonly string[]) {
        checking(() => checkIds(ids))
        const letters = (await deadLetters()).filter((d) => !ids || ids.includes(d.id))
        if (letters.length) await store.commit({ mutations: letters.map((d) => ({ type: 'delete' as const, key: keys.dead(d.subscription, d.event.seq) })) })
        return letters.length
      },
    },

    async stats() {
      const now = clock.now()
      return Promise.all((await all()).map(async (r) => {
        const runner = attached.get(r.name)?.runner
        const [retries, dead, waiting] = await Promise.all([
          store.list({ prefix: keys.retries(r.name) }), store.list({ prefix: keys.deadLetters(r.name) }), runner ? undefined : detachedLag(r),
        ])
        const s = runner?.stats() ?? { inFlight: 0, retrying: retries.length, lag: waiting!.lag, oldest: waiting!.oldest }
        return { name: r.name, lag: s.lag, inFlight: s.inFlight, retrying: s.retrying, deadLetters: dead.length, oldestAge: s.oldest === undefined ? 0 : now - s.oldest }
      }))
    },

    notify(events: readonly BusEvent[]) {
      for (const a of attached.values()) a.runner?.notify(events)
      for (const b of backlogs.values()) tally(b, events)
    },
    /** Internal work in progress (commits, reads), not handlers' own promises. */
    working: () => [...attached.values()].map((a) => a.runner?.working).filter(Boolean),
    busy: () => [...attached.values()].some((a) => a.runner?.busy()),

    /**
     * The grace period of `close({ timeout })`: nothing new starts, running handlers may finish until
     * the deadline, then their signals abort and whatever they settle with in that turn is kept,
     * to be committed by `close()`.
     */
    async drain(timeout: number | undefined) {
      if (timeout === undefined) return
      if (typeof timeout !== 'number' || !(timeout >= 0)) fail('INVALID_OPTIONS', `close timeout must be a number of ms >= 0, got ${JSON.stringify(timeout)}`)
      closed = true
      const runners = [...attached.values()].flatMap((a) => a.runner ? [a.runner] : [])
      const finished = Promise.all(runners.map((r) => r.drain()))
      let deadline: unknown
      await Promise.race([finished, new Promise<void>((r) => { deadline = clock.setTimer(clock.now() + timeout, r) })])
      clock.clearTimer(deadline)
      for (const r of runners) r.abortRunning(new TidingsError('CLOSED', `the bus closed after ${timeout} ms of grace`))
      // A handler that honours its signal settles within a turn: wait that long, not longer.
      await Promise.race([finished, new Promise((r) => setTimeout(r, 0))])
    },

    async close() {
      closed = true
      unwatch?.()
      for (const [name, a] of [...attached]) {
        attached.delete(name)
        clock.clearTimer(a.timer)
        if (!a.runner) continue
        a.runner.stop(new TidingsError('CLOSED', 'the bus is closed'))
        await a.runner.lease(null).catch(() => {})
      }
    },
  }
}

export type Subscriptions = ReturnType<typeof createSubscriptions>
