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
 * The log is one record per commit: a segment `{ seq, t, events }` under `e/<seq of its first
 * event>`, so an awaited publish writes one record, prefix ranges and `watch('e/')` still cover
 * every append, and the event with seq `s` is in the last segment whose key is `<= e/<s>`. Its
 * events' ids are its dedup record; `i/<n>` records hold only ids no segment holds (delayed events
 * held aside, and ids still remembered when retention deletes their segment), and `m/head` moves
 * only with them. A commit checks `m/head`'s version and that the key its segment takes is absent,
 * so two writers never give out one seq. The layout before segments (one event per `e/<seq>`, an
 * `i/<n>` per commit and `m/head` on every commit) reads as one-event segments.
 *
 * | key                      | holds                                                        |
 * | ------------------------ | ------------------------------------------------------------ |
 * | `e/<seq>`                | a segment: one commit's events, from `seq` on (see below)    |
 * | `i/<n>`                  | a dedup record (time, first seq, ids) no segment holds        |
 * | `m/head`                 | the dedup records' head: their last number, a seq before it  |
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
 * The head record's key: the last dedup record number `n`, and a seq at or before the log's head.
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
  /** The key of the segment whose first event has seq `seq` (the event itself in the old layout). */
  event: (seq: number): string => seqKey(PREFIX.events, seq),
  /** The seq of an `e/<seq>` key. */
  seqOf: (key: string): number => Number(key.slice(PREFIX.events.length)),
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
