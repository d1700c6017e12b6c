/**
 * The log's segments off the publish path, loaded on first use: start-up, reads by seq, catching up
 * with another writer, and pruning. A segment is one commit's events under the key of its first
 * seq (the layout is in store/keys.ts); a record of the layout before segments, one event per key,
 * reads as a segment of one.
 */
import type { BusEvent } from '../event.js'
import { HEAD, keys, PREFIX, prefixEnd, seqKey } from '../store/keys.js'
import type { Mutation, Store, StoreEntry } from '../store/store.js'
import type { IdRecord } from './dedup.js'
import { ageCut } from './retention.js'
import type { Head, LogState, Pruning } from './state.js'

const EVENTS = PREFIX.events
const IDS = PREFIX.dedup
const END = prefixEnd(EVENTS)
/** Records per listing when paging through segments. */
const PAGE = 64

/** One commit's events, stored under `e/<seq>`: `events[i]` has seq `seq + i`, appended at `t`. */
export interface Segment {
  seq: number
  t: number
  events: BusEvent[]
}

/** A stored `e/` value is a segment, or an event of the layout before segments. */
const isSegment = (value: unknown): value is Segment =>
  Array.isArray((value as Partial<Segment>).events)

/**
 * The events of a stored `e/` value, oldest first.
 *
 * @example
 * const [first] = eventsOf((await store.get(keys.event(1)))?.value)
 */
export const eventsOf = (value: unknown): BusEvent[] =>
  isSegment(value) ? value.events : [value as BusEvent]

/** A segment's share of the dedup index: its events' ids, in no dedup record (`n` 0). */
const idsOf = (segment: Segment): IdRecord => ({
  n: 0,
  t: segment.t,
  s: segment.seq,
  ids: segment.events.map((event) => event.id),
})

/** The dedup records numbered `from` to `to` (to the last one when absent). */
const dedupRecords = async (store: Store, from: number, to?: number): Promise<IdRecord[]> =>
  (
    await store.list({
      start: seqKey(IDS, from),
      end: to === undefined ? prefixEnd(IDS) : seqKey(IDS, to + 1),
    })
  ).map((entry) => entry.value as IdRecord)

/** The last seq a listing of `e/` entries holds (`fallback` when it is empty). */
const lastSeqOf = (entry: StoreEntry | undefined, fallback: number): number => {
  if (!entry) return fallback
  const events = eventsOf(entry.value)
  return Math.max(fallback, events[events.length - 1]!.seq)
}

/**
 * Loads what the log decides with: the head (the stored head or the last segment, whichever is
 * further), the dedup index (its records, then the segments still inside the window, newest back),
 * the oldest stored seq, and where retention keeps from.
 *
 * @example
 * await open(state)
 */
export const open = async (state: LogState): Promise<void> => {
  const { store, clock, dedupe, retention } = state.options
  const [stored, records, oldest] = await Promise.all([
    store.get(HEAD),
    dedupRecords(store, 0),
    store.list({ prefix: EVENTS, limit: 1 }),
    state.pins.load(),
  ])
  const now = clock.now()
  // A copy: a store may hand out the value it keeps.
  const head = { ...((stored?.value as Head | undefined) ?? { seq: 0, n: 0 }) }
  const segments: IdRecord[] = []
  let remembered = 0
  // Pages grow (64, 128, ... 4096 records): one-event segments of a long window take few reads.
  paging: for (let end = END, limit = PAGE; ; limit = Math.min(limit * 2, 4096)) {
    const page = await store.list({ prefix: EVENTS, end, reverse: true, limit })
    if (end === END) head.seq = lastSeqOf(page[0], head.seq)
    for (const { value } of page) {
      // The layout before segments kept ids in dedup records, already loaded.
      if (!isSegment(value) || value.t < now - dedupe.window || remembered >= dedupe.max)
        break paging
      segments.push(idsOf(value))
      remembered += value.events.length
    }
    if (page.length < limit) break
    end = page[page.length - 1]!.key
  }
  state.head = head
  state.headVersion = stored?.version ?? null
  // Oldest first, as they were appended: dedup records and segments merged by first seq.
  segments.reverse()
  for (let i = 0, j = 0; i < records.length || j < segments.length;) {
    const takeRecord =
      j >= segments.length || (i < records.length && records[i]!.s <= segments[j]!.s)
    state.index.add(takeRecord ? records[i++]! : segments[j++]!)
  }
  state.storedFrom = oldest[0] ? keys.seqOf(oldest[0].key) : head.seq + 1
  // A segment retention cut through still holds the events before the cut: read from the cut.
  const cut = Math.min(
    Math.max(head.seq - retention.events + 1, ageCut(state.index, now - retention.age)),
    state.pins.lowest(now),
  )
  state.firstSeq = Math.max(state.storedFrom, cut)
}

/**
 * Catches up with what another writer committed: its dedup records, then its segments.
 *
 * @example
 * await refresh(state)
 */
export const refresh = async (state: LogState): Promise<void> => {
  const { store, onAppend } = state.options
  const before = state.head.seq
  let { seq, n } = state.head
  let version = state.headVersion
  let listed = before
  const events: BusEvent[] = []
  // Until the head stays put across a listing: pruning while this reads deletes segments it has
  // not listed yet, and their ids are then only in the dedup records that pruning wrote.
  for (let stored = await store.get(HEAD); ;) {
    if (stored && stored.version !== version) {
      const to = stored.value as Head
      // Records of ids this log knows from their segments would count twice: only new ones.
      for (const record of await dedupRecords(store, n + 1, to.n))
        if (record.held?.length || record.s + record.ids.length - 1 > before)
          state.index.add(record)
      n = to.n
      seq = Math.max(seq, to.seq)
      version = stored.version
    }
    for (const { value } of await store.list({ start: keys.event(listed + 1), end: END })) {
      if (isSegment(value)) state.index.add(idsOf(value))
      for (const event of eventsOf(value)) events.push(event)
    }
    if (events.length) listed = events[events.length - 1]!.seq
    stored = await store.get(HEAD)
    if (!stored || stored.version === version) break
  }
  state.headVersion = version
  state.head = { seq: Math.max(seq, listed), n }
  if (events.length) onAppend(events)
}

/**
 * Up to `limit` events from seq `from` on (from the oldest kept when earlier), oldest first: the
 * segment holding `from`, then the ones after it.
 *
 * @example
 * const page = await readFrom(state, 1, 100)
 */
export const readFrom = async (
  state: LogState,
  from: number,
  limit: number,
): Promise<BusEvent[]> => {
  const { store } = state.options
  const start = Math.max(from, state.firstSeq)
  // Paging on from where the last read ended at a segment's end: the segment holding `start` is
  // the next one, so one listing finds it (a hint: segments are never rewritten, only deleted).
  const [holding, after] =
    state.readEnd === start
      ? [[], await store.list({ start: keys.event(start), end: END, limit: Math.min(limit, PAGE) })]
      : await Promise.all([
          store.list({ prefix: EVENTS, end: keys.event(start + 1), reverse: true, limit: 1 }),
          store.list({ start: keys.event(start + 1), end: END, limit: Math.min(limit, PAGE) }),
        ])
  const events: BusEvent[] = []
  let ended = 0
  const take = (entries: StoreEntry[]) => {
    for (const { value } of entries) {
      const held = eventsOf(value)
      const count = events.length
      for (const event of held) if (event.seq >= start && events.length < limit) events.push(event)
      // Where the page ends: after this segment when it was taken to its end, else inside one.
      const last = held[held.length - 1]!.seq
      if (events.length > count) ended = events[events.length - 1]!.seq === last ? last + 1 : 0
    }
  }
  take(holding)
  take(after)
  // Each segment holds at least one event: a page shorter than asked is the end of the log.
  for (
    let page = after, asked = Math.min(limit, PAGE);
    events.length < limit && page.length === asked;
  ) {
    asked = Math.min(limit - events.length, PAGE)
    const next = keys.event(keys.seqOf(page[page.length - 1]!.key) + 1)
    page = await store.list({ start: next, end: END, limit: asked })
    take(page)
  }
  state.readEnd = ended
  return events
}

/**
 * Up to `limit` events before seq `end`, newest first, down to the oldest kept.
 *
 * @example
 * const newest = await readBefore(state, log.head + 1, 256)
 */
export const readBefore = async (
  state: LogState,
  end: number,
  limit: number,
): Promise<BusEvent[]> => {
  const events: BusEvent[] = []
  for (let key = keys.event(end); events.length < limit;) {
    const page = await state.options.store.list({
      prefix: EVENTS,
      end: key,
      reverse: true,
      limit: PAGE,
    })
    for (const { value } of page) {
      const held = eventsOf(value)
      for (let i = held.length - 1; i >= 0 && events.length < limit; i--) {
        const event = held[i]!
        if (event.seq < state.firstSeq) return events
        if (event.seq < end) events.push(event)
      }
    }
    if (page.length < PAGE) break
    key = page[page.length - 1]!.key
  }
  return events
}

/**
 * Deletes the segments wholly before `cut` (a segment the cut goes through stays, read from the
 * cut). Ids of deleted segments that the dedup index still remembers move to dedup records
 * numbered after `n`, so they stay remembered across restarts.
 *
 * @example
 * const pruning = await prune(state, cut, head.n)
 */
export const prune = async (
  state: LogState,
  cut: number,
  n: number,
): Promise<Pruning | undefined> => {
  const [holding] = await state.options.store.list({
    start: keys.event(state.storedFrom),
    end: keys.event(cut + 1),
    reverse: true,
    limit: 1,
  })
  // None stored up to the cut: it is inside the segments this commit writes, which must stay.
  if (!holding) return undefined
  const boundary = keys.seqOf(holding.key)
  // The cut is inside the oldest segment: nothing to delete yet.
  if (boundary <= state.storedFrom) return undefined
  const mutations: Mutation[] = [
    { type: 'deleteRange', start: keys.event(state.storedFrom), end: keys.event(boundary) },
  ]
  const moved: [IdRecord, IdRecord[]][] = []
  let last: [IdRecord, IdRecord[]] | undefined
  for (const record of state.index.oldest()) {
    if (record.s >= boundary) continue
    if (record.n) {
      last = undefined
      continue
    }
    // One dedup record per run of consecutive seqs.
    if (!last || last[0].s + last[0].ids.length !== record.s) {
      last = [{ n: ++n, t: record.t, s: record.s, ids: [] }, []]
      moved.push(last)
    }
    last[0].t = Math.max(last[0].t, record.t)
    last[0].ids.push(...record.ids)
    last[1].push(record)
  }
  for (const [record] of moved)
    mutations.push({ type: 'set', key: keys.dedup(record.n), value: record })
  return {
    mutations,
    n,
    storedFrom: boundary,
    landed() {
      for (const [record, covered] of moved) for (const segment of covered) segment.n = record.n
    },
  }
}
