import type { BusEvent } from '../event.js'
import { startAttempt } from './attempt.js'
import { pumpBatches } from './batch-lanes.js'
import { indexEvent, walkFrontier } from './lane-index.js'
import type { RetryRecord, RunnerCore, RunnerState } from './runner-state.js'

// How many fetched events the runner keeps in memory: a long backlog stays in the store, read in
// pages as the buffer drains.
const PAGE = 256
const FILL_TO = 512
const BUFFER_MAX = 4096

/**
 * Where the cursor stands: the first undone event (and its index in the buffer), or all fetched.
 * With `flushNumber`, the attempts that flush commits as done (flush.ts marks them) count as done.
 */
export const firstUndone = (
  state: RunnerState,
  flushNumber?: number,
): [cursor: number, index: number] => {
  const { buffer, doneSeqs } = state
  let index = state.bufferHead
  while (index < buffer.length) {
    const { seq } = buffer[index]!
    if (!doneSeqs.has(seq) && !(flushNumber && settlesDone(state, seq, flushNumber))) break
    index++
  }
  return [buffer[index]?.seq ?? state.nextToFetch, index]
}

/** Whether the commit of flush `flushNumber` carries a done outcome (ack or dead letter) of `seq`. */
const settlesDone = (state: RunnerState, seq: number, flushNumber: number): boolean => {
  const run = state.inFlight.get(seq)
  return run?.settlingIn === flushNumber && run.settlesDone === true
}

/** Drops done events from the front of the buffer and moves the cursor past them. */
const advance = (state: RunnerState): void => {
  const [to, index] = firstUndone(state)
  state.bufferHead = index
  if (state.bufferHead > 1024 && state.bufferHead * 2 > state.buffer.length) {
    state.buffer = state.buffer.slice(state.bufferHead)
    state.bufferHead = 0
  }
  if (state.doneSeqs.size)
    for (const seq of state.doneSeqs) if (seq < to) state.doneSeqs.delete(seq)
  state.cursor = Math.max(state.cursor, to)
}

/** Adds events read or appended to the buffer (or to the done seqs, when they do not match). */
export const take = (core: RunnerCore, events: readonly BusEvent[]): void => {
  const { state } = core
  for (const event of events) {
    if (state.buffer.length - state.bufferHead > BUFFER_MAX) {
      state.caughtUp = false
      return
    }
    if (event.seq < state.nextToFetch) continue
    state.nextToFetch = event.seq + 1
    if (state.doneSeqs.has(event.seq)) continue
    if (core.options.matches(event) && !state.handledIds.has(event.id)) {
      state.buffer.push(event)
      // Batch subscriptions walk the buffer itself (batch-lanes.ts), so only singles are indexed.
      if (!core.options.batch) indexEvent(state.lanes, event)
    } else state.doneSeqs.add(event.seq)
  }
}

/** Reads the log into the buffer until it is full or caught up, then pumps. */
const fill = (core: RunnerCore): Promise<void> => {
  const { state } = core
  return (state.filling ??= (async () => {
    try {
      while (
        !state.stopped &&
        !state.draining &&
        state.buffer.length - state.bufferHead < FILL_TO
      ) {
        state.appendedDuringRead = false
        const page = await core.host.log.read(state.nextToFetch, PAGE)
        take(core, page)
        if (page.length < PAGE && !state.appendedDuringRead) {
          state.caughtUp = true
          break
        }
      }
    } finally {
      state.filling = undefined
    }
    core.pump()
  })())
}

/** Starts single-event attempts: in seq order, one per ordering key; returns when the next retry is due. */
const pumpSingles = (core: RunnerCore, now: number): number => {
  const { state, options } = core
  // Made on the first keyed event: most pumps of an unkeyed stream need none.
  let blockedKeys: Set<string> | undefined
  let nextDue = Infinity
  const slots = state.careful ? 1 : options.concurrency
  const consider = (event: BusEvent, retry: RetryRecord | undefined): boolean => {
    if (state.inFlight.has(event.seq) || state.awaitingNote.has(event.seq)) {
      if (event.key !== undefined) (blockedKeys ??= new Set()).add(event.key)
      return true
    }
    if (event.key !== undefined) {
      if (blockedKeys?.has(event.key)) return true
      ;(blockedKeys ??= new Set()).add(event.key)
    }
    if (retry && retry.due > now) {
      nextDue = Math.min(nextDue, retry.due)
      return true
    }
    if (state.runningHandlers + state.awaitingNote.size >= slots) return false
    if (state.careful && !state.notedSeqs.has(event.seq)) state.awaitingNote.add(event.seq)
    else startAttempt(core, event, retry)
    return true
  }
  // Unkeyed events and each key's first undone one, in seq order: a blocked key's backlog is not walked.
  const isDone = (event: BusEvent) => event.seq < state.cursor || state.doneSeqs.has(event.seq)
  walkFrontier(state.lanes, isDone, (event) => consider(event, state.retries.get(event.seq)))
  // Redriven events sit below the cursor with their event; they queue behind their key's lane.
  if (state.retries.size)
    for (const [seq, retry] of state.retries)
      if (seq < state.cursor && retry.event && !consider(retry.event, retry)) break
  return nextDue
}

/**
 * Starts what can start: in seq order, one per ordering key (a batch subscription: batches, see
 * batch-lanes.ts), within the concurrency bound (one while careful, and then only once a commit
 * has noted it).
 */
export const pump = (core: RunnerCore): void => {
  const { state, host, options } = core
  if (state.stopped || state.draining) return
  advance(state)
  const now = host.clock.now()
  const nextDue = options.batch ? pumpBatches(core, now) : pumpSingles(core, now)
  host.clock.clearTimer(state.wakeTimer)
  state.wakeTimer = nextDue < Infinity ? host.clock.setTimer(nextDue, core.pump) : undefined
  // Persist a cursor that moved over non-matching events, so retention is not pinned by them;
  // and, careful, note what is about to start.
  if (state.cursor > state.record.cursor || state.awaitingNote.size) void core.flushSoon()
  // Caught up with nothing running: whatever the dead holder left is settled.
  const settled =
    state.caughtUp &&
    !state.inFlight.size &&
    !state.awaitingNote.size &&
    firstUndone(state)[1] >= state.buffer.length
  if (state.careful && (settled || state.carefulOutcomesLeft <= 0)) {
    state.careful = false
    state.blame = undefined
  }
  if (!state.caughtUp && state.buffer.length - state.bufferHead < PAGE) {
    void fill(core).catch((error) => host.onError(error, { subscription: options.name }))
  }
  host.activity()
}
