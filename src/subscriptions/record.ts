import type { Filter } from '../filter/filter.js'
import { seqKey } from '../store/store.js'

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

/**
 * Store keys of a subscription's state.
 *
 * @example
 * await store.get(keys.dead('mailer', 42))
 */
export const keys = {
  sub: (name: string): string => `s/${name}`,
  ack: (name: string, seq: number): string => seqKey(`a/${name}/`, seq),
  retry: (name: string, seq: number): string => seqKey(`r/${name}/`, seq),
  dead: (name: string, seq: number): string => seqKey(`x/${name}/`, seq),
  ledger: (name: string, n: number): string => seqKey(`l/${name}/`, n),
}
/**
 * The prefixes of a subscription's state, for deleting it whole.
 *
 * @example
 * statePrefixes('mailer') // ['a/mailer/', 'r/mailer/', 'x/mailer/', 'l/mailer/']
 */
export const statePrefixes = (name: string): string[] =>
  ['a', 'r', 'x', 'l'].map((prefix) => `${prefix}/${name}/`)
