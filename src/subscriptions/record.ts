import type { Filter } from '../filter/filter.js'

/**
 * What a bus that lets go without releasing (killed, evicted, dropped) leaves in its record: the
 * seqs whose handlers may have been running, as of its last commit; whether it ran careful (every
 * start noted first, one at a time); `blame`: it took over after a death that may be unexplained,
 * and these are the seqs that death was charged to (see `recover`).
 *
 * @example
 * const note: DeliveringNote = { owner: 'k3x9', seqs: [41, 42] }
 */
export interface DeliveringNote {
  owner: string
  seqs: number[]
  careful?: true
  blame?: number[]
}

/**
 * What is stored per subscription under `s/<name>`.
 *
 * @example
 * const record: SubRecord = { name: 'mailer', pattern: 'user.*', cursor: 0, created: clock.now() }
 */
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

export { keys, statePrefixes } from '../store/keys.js'
