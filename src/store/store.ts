/**
 * The storage contract every backend implements: small, key-ordered, with one atomic commit.
 * Bus semantics live in the core; a store only keeps bytes safe.
 *
 * Keys are ASCII strings that sort the same on every backend (sequence numbers are zero-padded).
 * Values are structured-cloneable (plain objects, arrays, primitives, Date, Map, Set, BigInt);
 * a store may keep the reference it was given, so callers never mutate a value after writing it
 * or after reading it.
 *
 * @example
 * const store = memoryStore()
 * const r = await store.commit({ checks: [{ key: 'a', version: null }], mutations: [{ type: 'set', key: 'a', value: 1 }] })
 * if (r.ok) console.log((await store.get('a'))?.version === r.version) // true
 */
export interface Store {
  /** One entry, or `undefined` when the key is absent. */
  get(key: string): Promise<StoreEntry | undefined>
  /** Entries in key order (or reverse), by prefix and/or half-open range `[start, end)`. */
  list(options: ListOptions): Promise<StoreEntry[]>
  /**
   * Applies every mutation or none. When any check fails (the key's current version differs from
   * the expected one; `null` expects the key to be absent) nothing is written and `{ ok: false }`
   * is returned. Rejects only when nothing was written, e.g. with code `STORAGE_FULL`.
   */
  commit(commit: Commit): Promise<CommitResult>
  /**
   * Optional: calls back after commits that touch keys under `prefix`, with those keys, so a
   * second bus over the same storage (another tab) learns of appends without polling. It may
   * include the watcher's own commits. Returns the unwatch function.
   */
  watch?(prefix: string, callback: (keys: readonly string[]) => void): () => void
  /** Optional: a persistent wake-up (the Durable Object alarm) so due work survives eviction. */
  setWakeup?(at: number | undefined): Promise<void>
  /** Optional: releases connections and watchers. */
  close?(): Promise<void>
}

/** A stored value and the version of the commit that last wrote it. */
export interface StoreEntry {
  readonly key: string
  readonly value: unknown
  /** Opaque; changes on every write of the key. */
  readonly version: string
}

/** Which entries `list` returns. `prefix` and `start`/`end` combine (intersection). */
export interface ListOptions {
  prefix?: string
  /** Inclusive lower bound. */
  start?: string
  /** Exclusive upper bound. */
  end?: string
  limit?: number
  reverse?: boolean
}

/** One write inside a commit. `deleteRange` removes keys in `[start, end)`. */
export type Mutation =
  | { readonly type: 'set'; readonly key: string; readonly value: unknown }
  | { readonly type: 'delete'; readonly key: string }
  | { readonly type: 'deleteRange'; readonly start: string; readonly end: string }

/** An optimistic check: the key's version must equal `version` (`null`: the key must be absent). */
export interface Check {
  readonly key: string
  readonly version: string | null
}

/** The unit of atomicity: every check passes and every mutation lands, or nothing does. */
export interface Commit {
  readonly checks?: readonly Check[]
  readonly mutations: readonly Mutation[]
}

/** `version` is what every key written by this commit now carries. */
export type CommitResult = { readonly ok: true; readonly version: string } | { readonly ok: false }

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
