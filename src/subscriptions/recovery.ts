import type { Log } from '../log/log.js'
import type { Mutation, Store } from '../store/store.js'
import type { DeadLetter } from '../types.js'
import { keys, type DeliveringNote } from './record.js'
import { errorOf, type Recovery, type RetryRecord } from './runner-state.js'

export type { Recovery } from './runner-state.js'

const died = (attempt: number, of: number) => {
  const error = new Error(`the runtime running the handler died (attempt ${attempt} of ${of})`)
  error.name = 'DeliveryError'
  return error
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
export const recover = async (
  store: Store,
  log: Log,
  name: string,
  cursor: number,
  note: DeliveringNote,
  options: { attempts: number },
  now: number,
): Promise<{ mutations: Mutation[]; dead: DeadLetter[]; recovery: Recovery }> => {
  const { attempts } = options
  const mutations: Mutation[] = []
  const dead: DeadLetter[] = []
  const extra =
    note.careful && note.blame && note.seqs.length === 1 && !note.blame.includes(note.seqs[0]!)
      ? 1
      : 0
  for (const seq of note.seqs) {
    const [retry, acked, gone] = await Promise.all([
      store.get(keys.retry(name, seq)),
      store.get(keys.ack(name, seq)),
      store.get(keys.dead(name, seq)),
    ])
    const retryRecord = retry?.value as RetryRecord | undefined
    // Settled since it was noted (or never ours to count): nothing ran unaccounted.
    if (acked || gone || (seq < cursor && !retryRecord)) continue
    const event =
      retryRecord?.event ?? (await log.read(seq, 1)).find((candidate) => candidate.seq === seq)
    if (!event) continue
    const attempt = Math.min(attempts, (retryRecord?.attempt ?? 0) + 1 + extra)
    const error = errorOf(died(attempt, attempts))
    if (attempt >= attempts) {
      const letter: DeadLetter = {
        id: `${name}/${seq}`,
        subscription: name,
        event,
        error,
        attempts: attempt,
        failedAt: now,
      }
      dead.push(letter)
      mutations.push({ type: 'set', key: keys.dead(name, seq), value: letter })
      if (retryRecord) mutations.push({ type: 'delete', key: keys.retry(name, seq) })
    } else {
      mutations.push({
        type: 'set',
        key: keys.retry(name, seq),
        value: { attempt, due: now, error, ...(seq < cursor ? { event } : {}) },
      })
    }
  }
  // A careful holder's death is explained by its note (an empty note passes its blame on).
  const blame = note.careful ? (note.seqs.length ? undefined : note.blame) : note.seqs
  return { mutations, dead, recovery: { careful: true, blame } }
}
