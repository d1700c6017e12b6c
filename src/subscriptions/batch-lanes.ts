import type { BusEvent } from '../event.js'
import { startBatch } from './batch.js'
import type { RetryRecord, RunnerCore } from './runner-state.js'

/**
 * Starts what can start for a batch subscription and returns when the pump must next wake (a
 * retry coming due, or a filling batch's `wait` running out).
 *
 * Events are taken in seq order. A fresh event joins the filling batch unless an earlier event of
 * its key is in flight or waiting to retry; events of one key join it in seq order. A full batch
 * starts at once; a partial one once its first event has waited `wait` ms. A retried event runs
 * alone, and so does every event while careful (after a takeover), so a runtime that dies again is
 * charged to exactly the event that was running.
 *
 * @example
 * const nextDue = pumpBatches(core, clock.now())
 */
export const pumpBatches = (core: RunnerCore, now: number): number => {
  const { state, options } = core
  const { size, wait } = options.batch!
  const slots = state.careful ? 1 : options.concurrency
  const blockedKeys = new Set<string>()
  const filling: BusEvent[] = []
  const fillingKeys = new Set<string>()
  let nextDue = Infinity
  const free = () => state.runningHandlers + state.awaitingNote.size < slots
  const startFilling = () => {
    startBatch(core, filling.splice(0), [])
    for (const key of fillingKeys) blockedKeys.add(key)
    fillingKeys.clear()
    state.batchSince = undefined
  }
  const consider = (event: BusEvent, retry: RetryRecord | undefined): boolean => {
    const { key } = event
    if (state.inFlight.has(event.seq) || state.awaitingNote.has(event.seq)) {
      if (key !== undefined) blockedKeys.add(key)
      return true
    }
    if (key !== undefined && blockedKeys.has(key)) return true
    if (retry || state.careful) {
      // Behind its key's earlier events in the filling batch.
      if (key !== undefined && fillingKeys.has(key)) return true
      if (key !== undefined) blockedKeys.add(key)
      if (retry && retry.due > now) {
        nextDue = Math.min(nextDue, retry.due)
        return true
      }
      if (!free()) return false
      if (state.careful && !state.notedSeqs.has(event.seq)) state.awaitingNote.add(event.seq)
      else startBatch(core, [event], [retry])
      return true
    }
    filling.push(event)
    if (key !== undefined) fillingKeys.add(key)
    if (filling.length < size) return true
    if (!free()) return false
    startFilling()
    return true
  }
  for (let index = state.bufferHead; index < state.buffer.length; index++) {
    const event = state.buffer[index]!
    if (!state.doneSeqs.has(event.seq) && !consider(event, state.retries.get(event.seq))) break
  }
  // Redriven events sit below the cursor with their event; they queue behind their key's lane.
  for (const [seq, retry] of state.retries)
    if (seq < state.cursor && retry.event && !consider(retry.event, retry)) break
  if (!filling.length) state.batchSince = undefined
  else {
    state.batchSince ??= now
    const due = state.batchSince + wait
    if (due > now) nextDue = Math.min(nextDue, due)
    else if (free()) startFilling()
  }
  return nextDue
}
