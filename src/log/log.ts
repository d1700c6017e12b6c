/**
 * The log: the append pipeline of one bus.
 *
 * State: the queue of pending appends (read from `queueHead`, never shifted) and whether the run
 * loop is going; the in-memory head (last seq, last dedup record) and its stored version; the
 * dedup index; the oldest stored segment and the oldest seq read (the retention cut); retention
 * pins; the highest seq another writer was reported to append (`foreignSeq`) and the re-read
 * timer for it. The commit side of it (head, index,
 * oldest seq, pins, pruned records) is a `LogState` (state.ts).
 * Who mutates it: `append`/`enqueue` push to the queue; the run loop (run.ts) takes batches
 * (`takeBatch`, batch.ts) and gives own ids; `commitBatch` (commit.ts) commits a batch and only
 * after it lands moves the head, the index and the oldest seq; `refresh` (segments.ts) moves them
 * to what another writer committed.
 * Invariants: appends commit in call order, one batch per commit; the head in memory moves only
 * with a commit checked against the stored head's version and the absence of the key its first
 * segment takes, so two writers never give out the same seq.
 */
import { idPrefix, type BusEvent } from '../event.js'
import { createIdIndex } from './dedup.js'
import type { Delayed } from './delayed.js'
import { createPending, type Draft, type Extra, type Pending } from './pending.js'
import { keys, PREFIX } from '../store/keys.js'
import { createPins } from './retention.js'
import { createRunLoop } from './run.js'
import type { LogOptions, LogState } from './state.js'

export type { Appended, Draft, Extra, Pending } from './pending.js'
export type { LogOptions } from './state.js'

const EVENTS = PREFIX.events
const DELAYED = PREFIX.delayed

/** A bus's log, as the bus and its lazy parts use it. */
export interface Log {
  /** Settles once the head, dedup index and pins are loaded. */
  ready: Promise<void>
  /** The last seq. */
  readonly head: number
  /** Appends drafts (or a validation that yields them) in call order; resolves per draft. */
  append(
    drafts: Draft[] | Promise<Draft[]>,
    single: boolean,
    extra?: Extra,
    holds?: number[],
  ): Promise<any>
  /** Events from `seq` on, oldest first. */
  read(seq: number, limit: number): Promise<BusEvent[]>
  /** Events before seq `end`, newest first. */
  readBack(end: number, limit: number): Promise<BusEvent[]>
  /** Resolves once every append queued so far has settled. */
  idle(): Promise<void>
  close(): void
  /** Work in progress that is not a commit of the queue (lazy loads, due timers): for settling. */
  track<T>(promise: Promise<T>): Promise<T>
  /** Queues a pending built elsewhere (due delayed events, schedule ticks); settles with its commit. */
  enqueue(pending: Pending): Promise<unknown>
  /** The seq an id was appended with, while the dedup index remembers it. */
  seqOf(id: string): number | undefined
  /** Work in progress outside the queue, for a test clock's settling. */
  working(): Promise<unknown>[]
  /** Drops a delayed event not yet due; its id stays remembered. */
  cancel(id: string): Promise<boolean>
  /** Retention keeps what a subscription still needs: from its cursor on. */
  pin(name: string, cursor: number): void
  unpin(name: string): void
}

/**
 * The append pipeline: group commit in call order, the in-memory head and dedup index guarded by
 * the commit's version check on the head, and dedup eviction and retention riding on appends.
 * One batch is one commit: its events as one segment (store/keys.ts has the layout), and any pruning.
 *
 * @example
 * const log = createLog({ store, clock, dedupe, retention, expireAfter, onAppend: (events) => dispatch(events) })
 * await log.append([draft], true)
 */
export const createLog = (options: LogOptions): Log => {
  const { store, clock } = options
  const own = { prefix: idPrefix(clock.now()), counter: 0 }
  const state: LogState = {
    options,
    index: createIdIndex(own.prefix),
    pins: createPins(store, options.expireAfter),
    head: { seq: 0, n: 0 },
    headVersion: null,
    firstSeq: 1,
    storedFrom: 1,
    readEnd: 0,
    pruned: [],
    commits: 0,
    armDue: (at) => void track(delays().then((d) => d.arm(at))),
    segments: () => (segments ??= import('./segments.js')),
  }
  let segments: ReturnType<LogState['segments']> | undefined
  // Work in progress that is not a commit of the queue (lazy loads, due timers): for settling.
  const work = new Set<Promise<unknown>>()
  const track = <T>(p: Promise<T>): Promise<T> => {
    work.add(p)
    void p.catch(() => {}).finally(() => work.delete(p))
    return p
  }
  // Delayed events: their timer code loads when the first one is held or found at start-up.
  let delayed: Promise<Delayed> | undefined
  /** Queues a pending built elsewhere (due delayed events, schedule ticks); settles with its commit. */
  const enqueue = (p: Pending) =>
    new Promise<unknown>((resolve, reject) => {
      p.resolve = resolve
      p.reject = reject
      loop.push(p)
    })
  const delays = () =>
    (delayed ??= track(
      import('./delayed.js').then((m) => m.createDelayed({ store, clock, track, enqueue })),
    ))

  const ready = (async () => {
    const loading = state.segments()
    await options.before
    await (await loading).open(state)
    if ((await store.list({ prefix: DELAYED, limit: 1 })).length) await (await delays()).next()
  })()

  const loop = createRunLoop(state, own, ready)
  const unwatch = store.watch?.(EVENTS, loop.foreignCommitted)
  // Another bus's delayed events may fall due before ours.
  const unwatchDelayed = store.watch?.(
    DELAYED,
    () =>
      void delays()
        .then((d) => d.next())
        .catch(() => {}),
  )
  // Another bus may subscribe from further back than this one knows: re-read cursors before
  // pruning when a subscription appears. Known ones only move forward, which keeping more covers.
  const unwatchSubs = store.watch?.(PREFIX.subscriptions, (changed) => {
    if (changed.some((k) => !state.pins.has(keys.nameOf(k)))) state.pins.stale = true
  })

  return {
    ready,
    get head() {
      return state.head.seq
    },
    append(
      drafts: Draft[] | Promise<Draft[]>,
      single: boolean,
      extra?: Extra,
      holds?: number[],
    ): Promise<any> {
      return new Promise((resolve, reject) => {
        loop.push(createPending(drafts, single, extra, holds, resolve, reject))
      })
    },
    async read(seq: number, limit: number): Promise<BusEvent[]> {
      await ready
      return (await state.segments()).readFrom(state, seq, limit)
    },
    async readBack(end: number, limit: number): Promise<BusEvent[]> {
      await ready
      return (await state.segments()).readBefore(state, end, limit)
    },
    idle: loop.idle,
    close() {
      loop.stop()
      unwatch?.()
      unwatchSubs?.()
      unwatchDelayed?.()
      void delayed?.then((d) => d.stop())
    },
    track,
    enqueue,
    seqOf: (id: string): number | undefined => state.index.get(id) || undefined,
    working: () => [...work],
    cancel: async (id: string): Promise<boolean> => {
      await ready
      return (await delays()).cancel(id)
    },
    pin: (name: string, cursor: number) => state.pins.set(name, cursor),
    unpin: (name: string) => state.pins.delete(name),
  }
}
