import type { Clock } from '../clock/clock.js'
import type { BusEvent } from '../event.js'
import type { Mutation, Store } from '../store/store.js'
import type { IdIndex } from './dedup.js'
import type { Pins } from './retention.js'

/**
 * The log's head: the last seq and the last dedup record number. Stored (`m/head`) only by commits
 * that write a dedup record, so the stored seq may be behind; the last segment has the rest.
 */
export interface Head {
  seq: number
  n: number
}

/** What a log is made with (see `createLog`). */
export interface LogOptions {
  store: Store
  clock: Clock
  dedupe: { window: number; max: number }
  retention: { events: number; age: number }
  /** A subscription with no handler for this long stops pinning retention. */
  expireAfter: number
  /** Start-up work the log waits for before it reads or appends anything (the versions code, when used). */
  before?: Promise<unknown> | undefined
  /** Called after each commit (own or another writer's) with the new events in seq order. */
  onAppend(events: BusEvent[]): void
}

/**
 * The commit side of a log's state (the overview is at the top of log.ts): the in-memory head and
 * its stored version, the dedup index, the oldest stored seq, retention pins, and the deletes of
 * evicted dedup records carried until a commit lands them. Moved only by `commitBatch` and
 * `refresh` (commit.ts), and read by the log.
 */
export interface LogState {
  readonly options: LogOptions
  readonly index: IdIndex
  readonly pins: Pins
  head: Head
  headVersion: string | null
  /** The oldest seq retention keeps: reads start here. */
  firstSeq: number
  /** The key seq of the oldest stored segment (it may hold events before `firstSeq`). */
  storedFrom: number
  /** The seq after the segment the last read ended with (0: it ended inside one): where a next page's segment starts. */
  readEnd: number
  /** Deletes of evicted dedup records, carried until a commit lands them. */
  pruned: Mutation[]
  /** Commits so far: every 128th re-reads the pins. */
  commits: number
  /** Arms the delayed events' timer for a held event due at `at`. */
  armDue(at: number): void
  /** The segment code off the publish path (segments.ts), loaded once. */
  segments(): Promise<SegmentCode>
}

/** What segments.ts does for the log: start-up, reads by seq, catching up, pruning. */
export interface SegmentCode {
  open(state: LogState): Promise<void>
  refresh(state: LogState): Promise<void>
  readFrom(state: LogState, from: number, limit: number): Promise<BusEvent[]>
  readBefore(state: LogState, end: number, limit: number): Promise<BusEvent[]>
  prune(state: LogState, cut: number, n: number): Promise<Pruning | undefined>
}

/** What pruning adds to a commit, and what it changes once the commit lands. */
export interface Pruning {
  mutations: Mutation[]
  /** The last dedup record number after it. */
  n: number
  /** The new oldest stored segment. */
  storedFrom: number
  /** Marks the deleted segments' index records as kept by the dedup records written for them. */
  landed(): void
}
