/**
 * Runs one durable subscription on this bus while it holds the lease.
 *
 * State (see runner-state.ts for each field): the stored record and its version, the buffer of
 * fetched events and the in-memory cursor, done seqs, retries, attempts in flight, outcomes waiting
 * for their commit, the consumer ledger, and the careful mode after a takeover.
 * Who mutates it: lanes.ts (fetch, cursor, starts), attempt.ts (handler runs, outcomes),
 * flush.ts (the one commit per turn, then memory), and this file (load, adopt, drain, stop).
 * Invariants: an attempt stays in flight until its outcome is committed, so no event runs twice
 * at once; acks are stored only above the cursor; an older epoch's attempts report nowhere.
 */
import { TidingsError } from '../errors.js'
import type { BusEvent } from '../event.js'
import { keys } from '../store/keys.js'
import { clearDeadline } from './deadlines.js'
import { flush } from './flush.js'
import type { Host } from './host.js'
import { createLaneIndex } from './lane-index.js'
import { pump, take } from './lanes.js'
import type { SubRecord } from './record.js'
import type { Recovery } from './recovery.js'
import {
  abortAttempt,
  createRunnerState,
  notedBy,
  seqOfKey,
  type LedgerRecord,
  type RetryRecord,
  type RunnerCore,
  type RunnerOptions,
} from './runner-state.js'

export type { DeadLetter, HandlerContext, RetryOptions } from '../types.js'
export type { DeliveringNote } from './record.js'
export type { Recovery } from './recovery.js'
export type { RunnerOptions } from './runner-state.js'
export { keys, statePrefixes } from './record.js'
export { recover } from './recovery.js'

/** A subscription's runner, as the subscriptions module drives it. */
export interface Runner {
  /** The version of the record as this runner last wrote or adopted it. */
  readonly version: string | null
  /** Reads the subscription's state (acks, retries, dead letters, ledger) from the store. */
  load(): Promise<void>
  /** New events appended to the log (by this bus or, through watch, another). */
  notify(events: readonly BusEvent[]): void
  pump(): void
  /** Renews (or, with null, releases) the lease in the next commit; resolves when it has landed. */
  lease(next: SubRecord['lease'] | null): Promise<void>
  /**
   * Adopts a record written elsewhere. A moved cursor (replay) drops everything in flight and
   * reloads; otherwise (a redrive) only the retries are read again.
   */
  adopt(record: SubRecord, version: string): Promise<void>
  stats(): { inFlight: number; retrying: number; lag: number; oldest: number | undefined }
  /** Work that is not a handler's own promise: commits and reads. */
  readonly working: Promise<void> | undefined
  /** Whether anything is in flight (handlers included). */
  busy(): boolean
  /** Starts nothing more; resolves once no handler of this runner is running. */
  drain(): Promise<void>
  /** Aborts the running handlers' signals; what they then return or throw is committed as usual. */
  abortRunning(reason: unknown): void
  stop(reason: unknown): void
}

/** Reads a runner's stored state into memory (its buffer refills from the cursor). */
const load = async (core: RunnerCore): Promise<void> => {
  const {
    state,
    host,
    options: { name },
  } = core
  const [acks, retries, dead, ledger] = await Promise.all([
    host.store.list({ prefix: keys.acks(name) }),
    host.store.list({ prefix: keys.retries(name) }),
    host.store.list({ prefix: keys.deadLetters(name) }),
    host.store.list({ prefix: keys.ledgers(name) }),
  ])
  state.doneSeqs.clear()
  state.retries.clear()
  state.buffer = []
  state.bufferHead = 0
  state.lanes = createLaneIndex()
  state.handledIds.clear()
  state.ledger = ledger.map((entry) => entry.value as LedgerRecord)
  state.ledgerHead = 0
  for (const record of state.ledger) for (const id of record.ids) state.handledIds.add(id)
  state.cursor = state.record.cursor
  state.nextToFetch = state.cursor
  state.caughtUp = false
  state.ackStoredBelow = 0
  for (const ack of acks) {
    const seq = seqOfKey(ack.key)
    state.doneSeqs.add(seq)
    state.ackStoredBelow = Math.max(state.ackStoredBelow, seq + 1)
  }
  for (const letter of dead)
    if (seqOfKey(letter.key) >= state.cursor) state.doneSeqs.add(seqOfKey(letter.key))
  for (const retry of retries) state.retries.set(seqOfKey(retry.key), retry.value as RetryRecord)
}

/** Drops every attempt in flight (replay, stop): their results then go nowhere. */
const dropInFlight = (core: RunnerCore, reason: unknown): void => {
  const { state, host } = core
  for (const run of state.inFlight.values()) {
    abortAttempt(run, reason)
    host.clock.clearTimer(run.timer)
  }
  clearDeadline(core)
  state.inFlight.clear()
  state.awaitingNote.clear()
  state.runningHandlers = 0
}

/**
 * Runs one durable subscription on this bus while it holds the lease: keeps its cursor, acks
 * above the cursor, retries and dead letters in the store, and dispatches in ordering-key lanes.
 * An attempt stays in flight until its outcome is committed, so no event runs twice at once.
 *
 * @example
 * const runner = createRunner(host, options, record, version)
 * await runner.load()
 * runner.pump()
 */
export const createRunner = (
  host: Host,
  options: RunnerOptions,
  record: SubRecord,
  version: string,
  recovery?: Recovery,
): Runner => {
  const state = createRunnerState(record, version, host.owner, recovery)
  const flushFailed = (error: unknown) => {
    state.flushing = undefined
    host.onError(error, { subscription: options.name })
  }
  const core: RunnerCore = {
    host,
    options,
    state,
    pump: () => pump(core),
    flushSoon: () =>
      (state.flushing ??= Promise.resolve()
        .then(() => flush(core))
        .catch(flushFailed)),
    report: (outcome) => {
      state.outcomes.push(outcome)
      void core.flushSoon()
    },
  }
  const { clock } = host
  return {
    get version() {
      return state.recordVersion
    },
    load: () => load(core),
    notify(events) {
      if (state.stopped) return
      if (state.filling) state.appendedDuringRead = true
      if (state.caughtUp && events[0] && events[0].seq <= state.nextToFetch) take(core, events)
      else state.caughtUp = false
      core.pump()
    },
    pump: core.pump,
    async lease(next) {
      state.pendingLease = next
      while (state.pendingLease !== undefined || state.flushing) await core.flushSoon()
    },
    async adopt(next, nextVersion) {
      if (next.cursor !== state.record.cursor) {
        state.epoch++
        dropInFlight(core, new TidingsError('CLOSED', 'replayed'))
        state.outcomes = []
        state.record = next
        state.recordVersion = nextVersion
        state.notedSeqs = notedBy(next, host.owner)
        await load(core)
      } else {
        state.record = next
        state.recordVersion = nextVersion
        for (const entry of await host.store.list({ prefix: keys.retries(options.name) })) {
          const seq = seqOfKey(entry.key)
          if (!state.inFlight.has(seq)) state.retries.set(seq, entry.value as RetryRecord)
        }
      }
      core.pump()
    },
    stats() {
      const retrying = [...state.retries.keys()].filter((seq) => !state.inFlight.has(seq)).length
      let oldest: number | undefined
      for (
        let index = state.bufferHead;
        index < state.buffer.length && oldest === undefined;
        index++
      ) {
        if (!state.doneSeqs.has(state.buffer[index]!.seq)) oldest = state.buffer[index]!.time
      }
      return {
        inFlight: state.inFlight.size,
        retrying,
        lag: Math.max(0, host.log.head - state.cursor + 1 - state.doneSeqs.size),
        oldest,
      }
    },
    get working() {
      return state.flushing ?? state.filling
    },
    busy: () => state.inFlight.size > 0 || !!state.flushing || !!state.filling,
    drain() {
      state.draining = true
      clock.clearTimer(state.wakeTimer)
      return state.runningHandlers
        ? new Promise((resolve) => state.idleWaiters.push(resolve))
        : Promise.resolve()
    },
    abortRunning(reason) {
      for (const run of state.inFlight.values()) if (!run.over) abortAttempt(run, reason)
    },
    stop(reason) {
      if (state.stopped) return
      state.stopped = true
      clock.clearTimer(state.wakeTimer)
      dropInFlight(core, reason)
      for (const resolve of state.idleWaiters.splice(0)) resolve()
    },
  }
}
