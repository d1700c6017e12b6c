import type { Check, Mutation } from '../store/store.js'
import type { DeadLetter } from '../types.js'
import { firstUndone } from './lanes.js'
import { keys, type DeliveringNote, type SubRecord } from './record.js'
import {
  errorOf,
  notedBy,
  type LedgerRecord,
  type Outcome,
  type RunnerCore,
} from './runner-state.js'

/** The mutations of a batch's outcomes: retries, dead letters, and acks above where the cursor lands (`to`). */
const outcomeMutations = (core: RunnerCore, batch: Outcome[], to: number, now: number) => {
  const { name } = core.options
  const { state } = core
  const mutations: Mutation[] = []
  const dead: DeadLetter[] = []
  for (const outcome of batch) {
    const { seq, event } = outcome
    if (state.retries.has(seq)) mutations.push({ type: 'delete', key: keys.retry(name, seq) })
    if (outcome.kind === 'retry') {
      mutations.push({
        type: 'set',
        key: keys.retry(name, seq),
        value: {
          attempt: outcome.attempt,
          due: outcome.due,
          error: errorOf(outcome.error),
          ...(seq < state.cursor ? { event } : {}),
        },
      })
    } else if (outcome.kind === 'dead') {
      const letter: DeadLetter = {
        id: `${name}/${seq}`,
        subscription: name,
        event,
        error: errorOf(outcome.error),
        attempts: outcome.attempt,
        failedAt: now,
      }
      dead.push(letter)
      mutations.push({ type: 'set', key: keys.dead(name, seq), value: letter })
    } else if (seq >= state.cursor && seq >= to) {
      mutations.push({ type: 'set', key: keys.ack(name, seq), value: 1 })
      if (seq >= state.ackStoredBelow) state.ackStoredBelow = seq + 1
    }
  }
  return { mutations, dead }
}

/**
 * The ledger's share of a commit: a record of the ids acked now, and the deletion of older records
 * beyond the window and size (they go whole). `forgetUpTo`: the ledger index the kept ones start at.
 */
const ledgerMutations = (core: RunnerCore, acked: string[], now: number, mutations: Mutation[]) => {
  const { state, options } = core
  const entry: LedgerRecord | undefined = acked.length
    ? { n: (state.ledger[state.ledger.length - 1]?.n ?? 0) + 1, t: now, ids: acked }
    : undefined
  if (entry) mutations.push({ type: 'set', key: keys.ledger(options.name, entry.n), value: entry })
  let forgetUpTo = state.ledgerHead
  for (
    let kept = state.handledIds.size + acked.length;
    forgetUpTo < state.ledger.length;
    forgetUpTo++
  ) {
    const record = state.ledger[forgetUpTo]!
    if (record.t >= now - options.ledger.window && kept <= options.ledger.max) break
    kept -= record.ids.length
    mutations.push({ type: 'delete', key: keys.ledger(options.name, record.n) })
  }
  return { entry, forgetUpTo }
}

/** Whether two lists of seqs (or blames) say the same; absent and empty differ, as stored. */
const sameSeqs = (one: readonly number[] | undefined, other: readonly number[] | undefined) => {
  if (one === other) return true
  if (!one || !other || one.length !== other.length) return false
  for (let index = 0; index < one.length; index++) if (one[index] !== other[index]) return false
  return true
}

/**
 * The delivering note this commit leaves (what still runs, or is about to start, sorted), or
 * undefined when the stored one already says so: most commits then build only the seq list.
 */
const changedNote = (core: RunnerCore): DeliveringNote | undefined => {
  const { state } = core
  const seqs: number[] = []
  let sorted = true
  for (const run of state.inFlight.values()) {
    // Its outcome is in this commit: it no longer runs once the commit lands.
    if (run.settlingIn === state.flushes) continue
    const { seq } = run.event
    if (seqs.length && seq < seqs[seqs.length - 1]!) sorted = false
    seqs.push(seq)
  }
  for (const seq of state.awaitingNote) {
    if (seqs.length && seq < seqs[seqs.length - 1]!) sorted = false
    seqs.push(seq)
  }
  if (!sorted) seqs.sort((a, b) => a - b)
  const blame = state.careful ? state.blame : undefined
  const stored = state.record.delivering
  if (
    stored &&
    stored.owner === core.host.owner &&
    !stored.careful === !state.careful &&
    (blame ? sameSeqs(blame, stored.blame) : stored.blame === undefined) &&
    sameSeqs(seqs, stored.seqs)
  )
    return undefined
  const note: DeliveringNote = { owner: core.host.owner, seqs }
  if (state.careful) {
    note.careful = true
    if (state.blame) note.blame = state.blame
  }
  return note
}

/** The record to write: the queued lease change, the delivering note (what still runs or is about to start), the cursor. */
const nextRecord = (
  core: RunnerCore,
  to: number,
  now: number,
  mutations: Mutation[],
): SubRecord => {
  const { state, options } = core
  const was = state.record.cursor
  let next = state.record
  const releasing = state.pendingLease === null
  if (state.pendingLease !== undefined) {
    next = { ...state.record }
    if (state.pendingLease) next.lease = state.pendingLease
    else {
      delete next.lease
      delete next.delivering
      next.detached = now
    }
    state.pendingLease = undefined
  }
  const note = options.countDeadRuntimes && !releasing ? changedNote(core) : undefined
  if (note || to > was) {
    if (next === state.record) next = { ...next }
    if (note) next.delivering = note
  }
  if (to > was) {
    next.cursor = to
    // Acks are stored only above the cursor: when none was stored below `to`, there is none to delete.
    if (state.ackStoredBelow > was)
      mutations.push({
        type: 'deleteRange',
        start: keys.ack(options.name, was),
        end: keys.ack(options.name, to),
      })
  }
  if (next !== state.record)
    mutations.push({ type: 'set', key: keys.sub(options.name), value: next })
  return next
}

/** Applies a landed commit to memory: attempts leave flight, retries and done seqs, the ledger. */
const applyCommitted = (
  core: RunnerCore,
  batch: Outcome[],
  to: number,
  acked: string[],
  ledger: { entry: LedgerRecord | undefined; forgetUpTo: number },
) => {
  const { state } = core
  if (state.careful) state.carefulOutcomesLeft -= batch.length
  for (const outcome of batch) {
    state.inFlight.delete(outcome.seq)
    if (outcome.kind === 'retry')
      state.retries.set(outcome.seq, {
        attempt: outcome.attempt,
        due: outcome.due,
        ...(outcome.seq < state.cursor ? { event: outcome.event } : {}),
      })
    else {
      state.retries.delete(outcome.seq)
      if (outcome.seq >= state.cursor) state.doneSeqs.add(outcome.seq)
    }
  }
  if (to > state.cursor) state.cursor = to
  for (; state.ledgerHead < ledger.forgetUpTo; state.ledgerHead++) {
    for (const id of state.ledger[state.ledgerHead]!.ids) state.handledIds.delete(id)
    state.ledger[state.ledgerHead] = undefined!
  }
  if (state.ledgerHead > 64 && state.ledgerHead * 2 > state.ledger.length) {
    state.ledger = state.ledger.slice(state.ledgerHead)
    state.ledgerHead = 0
  }
  if (ledger.entry) {
    state.ledger.push(ledger.entry)
    for (const id of acked) state.handledIds.add(id)
  }
}

/**
 * Commits the queued outcomes (with a queued lease change and the delivering note) in one commit
 * checked against the record's version; an attempt leaves flight only once its outcome landed.
 */
export const flush = async (core: RunnerCore): Promise<void> => {
  const { state, host, options } = core
  const batch = state.outcomes
  state.outcomes = []
  const now = host.clock.now()
  // Each attempt whose outcome this commit carries is marked with the flush's number (no Set per
  // commit; a mark left by a flush that never committed matches no later one).
  const flushNumber = ++state.flushes
  const acked: string[] = []
  for (const outcome of batch) {
    const run = state.inFlight.get(outcome.seq)
    if (run) {
      run.settlingIn = flushNumber
      run.settlesDone = outcome.kind !== 'retry'
    }
    if (outcome.kind === 'ack') acked.push(outcome.event.id)
  }
  // Where the cursor lands once these are done: acks are written only above it.
  const [to] = firstUndone(state, flushNumber)
  const { mutations, dead } = outcomeMutations(core, batch, to, now)
  const ledger = ledgerMutations(core, acked, now, mutations)
  const checks: Check[] = [{ key: keys.sub(options.name), version: state.recordVersion }]
  const next = nextRecord(core, to, now, mutations)
  let ok = false
  try {
    const result = await host.store.commit({ checks, mutations })
    if (result.ok) {
      ok = true
      if (next !== state.record) {
        state.record = next
        state.recordVersion = result.version
        host.pin(options.name, next.cursor)
      }
      // What the note says runs matters only while careful (and for starts still awaiting it).
      if (state.careful || state.awaitingNote.size) {
        state.notedSeqs = notedBy(state.record, host.owner)
        for (const seq of state.notedSeqs) state.awaitingNote.delete(seq)
      }
    }
  } catch (error) {
    host.onError(error, { subscription: options.name })
  }
  state.flushing = undefined
  if (!ok) {
    // The record changed under us (replay, takeover) or the store failed: start over from storage.
    for (const outcome of batch) state.inFlight.delete(outcome.seq)
    state.awaitingNote.clear()
    await host.reclaim(options.name)
    return
  }
  applyCommitted(core, batch, to, acked, ledger)
  for (const letter of dead)
    host.onError(letter.error, { event: letter.event, subscription: options.name })
  if (state.outcomes.length || state.pendingLease !== undefined || state.awaitingNote.size)
    void core.flushSoon()
  core.pump()
}
