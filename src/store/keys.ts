/**
 * Zero-pads a sequence number so keys sort numerically on every backend.
 *
 * @example
 * seqKey('e/', 42) // 'e/000000000000042'
 */
export const seqKey = (prefix: string, seq: number): string =>
  prefix + String(seq).padStart(15, '0')

/**
 * The smallest string greater than every key that starts with `prefix`: the `end` of a prefix range.
 *
 * @example
 * prefixEnd('e/') // 'e0'
 */
export const prefixEnd = (prefix: string): string =>
  prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)

/**
 * The bus's storage key layout: the one place a key prefix is written. Every other file builds
 * and parses keys through these functions, so the layout can be read (and changed) here alone.
 * Sequence numbers are zero-padded to 15 digits (`seqKey`), so keys sort alike on every backend.
 *
 * | key                      | holds                                                        |
 * | ------------------------ | ------------------------------------------------------------ |
 * | `e/<seq>`                | an event                                                     |
 * | `i/<n>`                  | one commit's dedup record (its time, first seq and ids)      |
 * | `m/head`                 | the head: last seq and last dedup record number              |
 * | `d/<due>/<id>`           | a delayed event, held aside until due                        |
 * | `s/<name>`               | a subscription: pattern, filter, cursor, lease               |
 * | `a/<name>/<seq>`         | an ack above the subscription's cursor                       |
 * | `r/<name>/<seq>`         | retry state of one event in one subscription                 |
 * | `x/<name>/<seq>`         | a dead letter                                                |
 * | `l/<name>/<n>`           | a consumer ledger record (ids handled once)                  |
 * | `c/<name>`               | a schedule                                                   |
 * | `b/<bridge>/in`          | the IndexedDB bridge's receive cursor (adapter-owned)        |
 *
 * @example
 * await store.get(keys.subscription('mailer'))      // 's/mailer'
 * await store.list({ prefix: PREFIX.subscriptions }) // every subscription record
 */
export const PREFIX = {
  events: 'e/',
  dedup: 'i/',
  meta: 'm/',
  delayed: 'd/',
  subscriptions: 's/',
  acks: 'a/',
  retries: 'r/',
  dead: 'x/',
  ledger: 'l/',
  schedules: 'c/',
  bridges: 'b/',
} as const

/**
 * The head record's key.
 *
 * @example
 * await store.get(HEAD) // { seq, n }
 */
export const HEAD: string = `${PREFIX.meta}head`

/**
 * Key builders and parsers of the layout above.
 *
 * @example
 * keys.event(42)            // 'e/000000000000042'
 * keys.dead('mailer', 7)    // 'x/mailer/000000000000007'
 * keys.nameOf('s/mailer')   // 'mailer'
 */
export const keys = {
  event: (seq: number): string => seqKey(PREFIX.events, seq),
  dedup: (n: number): string => seqKey(PREFIX.dedup, n),
  /** `d/<due>/<id>`: sorted by due time, then id. */
  delayed: (due: number, id: string): string => `${seqKey(PREFIX.delayed, due)}/${id}`,
  /** The due time of a `d/<due>/<id>` key. */
  dueOf: (key: string): number =>
    Number(key.slice(PREFIX.delayed.length, PREFIX.delayed.length + 15)),
  sub: (name: string): string => PREFIX.subscriptions + name,
  /** The subscription name of an `s/<name>` key. */
  nameOf: (key: string): string => key.slice(PREFIX.subscriptions.length),
  ack: (name: string, seq: number): string => seqKey(keys.acks(name), seq),
  retry: (name: string, seq: number): string => seqKey(keys.retries(name), seq),
  dead: (name: string, seq: number): string => seqKey(keys.deadLetters(name), seq),
  ledger: (name: string, n: number): string => seqKey(keys.ledgers(name), n),
  /** Prefixes of one subscription's state. */
  acks: (name: string): string => `${PREFIX.acks}${name}/`,
  retries: (name: string): string => `${PREFIX.retries}${name}/`,
  deadLetters: (name?: string): string =>
    name === undefined ? PREFIX.dead : `${PREFIX.dead}${name}/`,
  ledgers: (name: string): string => `${PREFIX.ledger}${name}/`,
  schedule: (name: string): string => PREFIX.schedules + name,
  /** The IndexedDB bridge's receive cursor. */
  bridgeCursor: (bridge: string): string => `${PREFIX.bridges}${bridge}/in`,
}

/**
 * The prefixes of a subscription's state besides its record, for deleting it whole.
 *
 * @example
 * for (const p of statePrefixes('mailer')) mutations.push({ type: 'deleteRange', start: p, end: prefixEnd(p) })
 */
export const statePrefixes = (name: string): string[] => [
  keys.acks(name),
  keys.retries(name),
  keys.deadLetters(name),
  keys.ledgers(name),
]
