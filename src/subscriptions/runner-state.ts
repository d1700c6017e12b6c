/**
 * The state of one subscription's runner, as one object the runner's parts share.
 *
 * What exists: the stored `record` (cursor, lease, delivering note) and its version; an in-memory
 * `buffer` of fetched, matching events (read from `bufferHead`, never shifted), `doneSeqs` at or
 * above the cursor, `retries` waiting for their due time, `inFlight` attempts, `outcomes` waiting
 * to be committed, and the consumer ledger (`ledger` from `ledgerHead`, `handledIds`).
 *
 * Who mutates it: lanes.ts fetches into the buffer, moves the cursor in memory and starts attempts;
 * attempt.ts runs a handler and queues its outcome; flush.ts commits outcomes (with lease changes
 * and the delivering note) and only after a commit lands updates `record`, `retries`, `doneSeqs`
 * and the ledger; runner.ts adopts records written elsewhere, drains and stops.
 *
 * Invariants: an attempt stays in `inFlight` until its outcome is committed, so no event runs twice
 * at once; `runningHandlers <= slots` (one while careful); an ack is written only above the cursor
 * the commit leaves; `epoch` changes on replay, and attempts of an older epoch report nowhere.
 */
import type { BusEvent } from '../event.js'
import type { HandlerContext } from '../types.js'
import type { Host } from './host.js'
import type { MetricsRecorder } from './metrics.js'
import { createLaneIndex, type LaneIndex } from './lane-index.js'
import type { SubRecord } from './record.js'

/**
 * How a runner starts after taking a subscription over from a holder that died.
 *
 * @example
 * const recovery: Recovery = { careful: true, blame: [42] }
 */
export interface Recovery {
  careful: boolean
  blame?: number[] | undefined
}

/** A stored failure: the retry state of one event in one subscription (stored as is). */
export interface RetryRecord {
  attempt: number
  due: number
  error?: { name: string; message: string }
  event?: BusEvent
}

/** One flush's share of the consumer ledger (stored as is): `n` its number, `t` its time, the ids it acknowledged. */
export interface LedgerRecord {
  n: number
  t: number
  ids: string[]
}

/**
 * One handler run. `controller` is made on first use of `ctx.signal` (an AbortController costs
 * microseconds); `abortReason` keeps the reason until then. A batch call arms its own `timer`; a
 * single-event attempt has a `deadline` the runner's one deadline timer checks (deadlines.ts),
 * and `end` to settle it (a timeout ends it as failed).
 */
export interface Attempt {
  event: BusEvent
  attempt: number
  controller?: AbortController
  abortReason?: unknown
  timer: unknown
  deadline?: number
  end?: ((error: unknown, ok: boolean) => void) | undefined
  over: boolean
  /** The number of the flush whose commit carries this attempt's outcome, and whether it is done (not a retry). */
  settlingIn?: number | undefined
  settlesDone?: boolean | undefined
}

/** What an attempt ended with, waiting for its commit. */
export type Outcome =
  | { seq: number; event: BusEvent; kind: 'ack' }
  | {
      seq: number
      event: BusEvent
      kind: 'retry' | 'dead'
      attempt: number
      error: unknown
      due: number
    }

/** Aborts an attempt's signal (or keeps the reason for when the signal is made). */
export const abortAttempt = (attempt: Attempt, reason: unknown): void => {
  attempt.abortReason ??= reason
  attempt.controller?.abort(reason)
}

/** The seq at the end of a `<prefix>/<name>/<seq>` key. */
export const seqOfKey = (key: string): number => Number(key.slice(key.lastIndexOf('/') + 1))

/** A stored error: name and message only. */
export const errorOf = (error: unknown): { name: string; message: string } => ({
  name: (error as Error)?.name ?? 'Error',
  message: String((error as Error)?.message ?? error),
})

export interface RunnerState {
  record: SubRecord
  recordVersion: string | null
  /** The first seq not yet handled, in memory (the record's may lag until the next commit). */
  cursor: number
  /** Seqs at or above the cursor that are done: acked, dead-lettered, or not matching. */
  doneSeqs: Set<number>
  /**
   * No ack is stored at this seq or above (one may be below): a cursor that moves within stored
   * acks deletes them; one that moves where none was written needs no delete. Infinity until loaded.
   */
  ackStoredBelow: number
  retries: Map<number, RetryRecord>
  /** Attempts from start until their outcome is committed. */
  inFlight: Map<number, Attempt>
  /**
   * How many handlers still run: what `concurrency` bounds. A finished handler frees its slot while
   * its ack commits, so acks batch up; its key stays held until the commit lands.
   */
  runningHandlers: number
  pumpQueued: boolean
  /**
   * The consumer ledger: ids handled here, so an event appended again under a new seq (after the
   * publish dedup window, or arriving twice over a bridge) is not handled twice.
   */
  handledIds: Set<string>
  ledger: LedgerRecord[]
  ledgerHead: number
  /** Fetched, matching events at or after the cursor, oldest first, from `bufferHead`. */
  buffer: BusEvent[]
  bufferHead: number
  /** The buffer indexed by ordering key, so the pump skips a blocked key's backlog in O(1). */
  lanes: LaneIndex
  /** The next seq to read from the log. */
  nextToFetch: number
  caughtUp: boolean
  /** Set when events are appended while a read is under way: the read may have missed them. */
  appendedDuringRead: boolean
  outcomes: Outcome[]
  /** Flushes started so far: numbers the attempts a commit settles (flush.ts). */
  flushes: number
  flushing: Promise<void> | undefined
  filling: Promise<void> | undefined
  /** Wakes the pump when the next retry is due. */
  wakeTimer: unknown
  /** The one timer for the handler timeouts of single-event attempts, armed for `deadlineAt` (deadlines.ts). */
  deadlineTimer: unknown
  deadlineAt: number
  expireDue?: () => void
  stopped: boolean
  /** Closing with a grace period: nothing new starts; `idleWaiters` hear when the last handler ends. */
  draining: boolean
  idleWaiters: (() => void)[]
  /** A lease change to write with the next flush (undefined: none; null: release it). */
  pendingLease: SubRecord['lease'] | null | undefined
  /** Bumped by replay: attempts started before it report into the void. */
  epoch: number
  /**
   * After taking over from a holder that died: an event starts only once a commit has noted it
   * (`awaitingNote` waits for that commit), one at a time, so a runtime that dies again is counted
   * exactly. It ends once caught up, or after `carefulOutcomesLeft` outcomes (it costs a commit per start).
   */
  careful: boolean
  blame: number[] | undefined
  carefulOutcomesLeft: number
  /** What the record's delivering note says runs now. */
  notedSeqs: Set<number>
  awaitingNote: Set<number>
  /** A batch subscription: when the batch now filling got its first ready event (its `wait` runs from then). */
  batchSince: number | undefined
}

/** The seqs a record notes as delivering by this owner. */
export const notedBy = (record: SubRecord, owner: string): Set<number> =>
  new Set<number>(record.delivering?.owner === owner ? record.delivering.seqs : [])

/** A runner's state as it starts on a record it holds the lease of. */
export const createRunnerState = (
  record: SubRecord,
  version: string,
  owner: string,
  recovery?: Recovery,
): RunnerState => ({
  record,
  recordVersion: version,
  cursor: record.cursor,
  doneSeqs: new Set(),
  ackStoredBelow: Infinity,
  retries: new Map(),
  inFlight: new Map(),
  runningHandlers: 0,
  pumpQueued: false,
  handledIds: new Set(),
  ledger: [],
  ledgerHead: 0,
  buffer: [],
  bufferHead: 0,
  lanes: createLaneIndex(),
  nextToFetch: record.cursor,
  caughtUp: false,
  appendedDuringRead: false,
  outcomes: [],
  flushes: 0,
  flushing: undefined,
  filling: undefined,
  wakeTimer: undefined,
  deadlineTimer: undefined,
  deadlineAt: Infinity,
  stopped: false,
  draining: false,
  idleWaiters: [],
  pendingLease: undefined,
  epoch: 0,
  careful: recovery?.careful ?? false,
  blame: recovery?.blame,
  carefulOutcomesLeft: 100,
  notedSeqs: notedBy(record, owner),
  awaitingNote: new Set(),
  batchSince: undefined,
})

/** The fixed options of a runner, defaults applied (see `subscribe`). */
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
  /** This bus's counters of the subscription (they outlive the runner). */
  metrics: MetricsRecorder
  /** A batch subscription's batching (batch.ts): `handler` then takes `(events, ctx)`. */
  batch?: { size: number; wait: number } | undefined
}

/** What the runner's parts (lanes, attempt, flush) share: the state, and the calls between them. */
export interface RunnerCore {
  host: Host
  options: RunnerOptions
  state: RunnerState
  /** Starts what can start (lanes.ts). */
  pump(): void
  /** Queues an attempt's outcome for the next commit (flush.ts). */
  report(outcome: Outcome): void
  /** Commits what is queued, once per turn (flush.ts). */
  flushSoon(): Promise<void>
}

/**
 * A handler call has settled: its slot is free. Wakes `idle`-style waiters when none runs, and
 * pumps once (in a microtask, however many settle in this tick) so the next starts while this
 * outcome commits.
 *
 * @example
 * releaseSlot(core)
 */
export const releaseSlot = (core: RunnerCore): void => {
  const { state } = core
  state.runningHandlers--
  if (!state.runningHandlers && state.idleWaiters.length)
    for (const resolve of state.idleWaiters.splice(0)) resolve()
  if (state.pumpQueued) return
  state.pumpQueued = true
  queueMicrotask(() => {
    state.pumpQueued = false
    core.pump()
  })
}
