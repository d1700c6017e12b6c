import type { Clock } from '../clock/clock.js'
import type { BusEvent } from '../event.js'
import type { Mutation, Store } from '../store/store.js'
import type { IdIndex } from './dedup.js'
import type { Pins } from './retention.js'

/** The head record: the last seq and the last dedup record number. Every appending commit writes it. */
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
  /** The oldest stored seq. */
  firstSeq: number
  /** Deletes of evicted dedup records, carried until a commit lands them. */
  pruned: Mutation[]
  /** Commits so far: every 128th re-reads the pins. */
  commits: number
  /** Arms the delayed events' timer for a held event due at `at`. */
  armDue(at: number): void
}
