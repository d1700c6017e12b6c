import { fail } from '../errors.js'

/** The most segments a topic or pattern may have. */
export const MAX_SEGMENTS = 16
const TOPIC = /^[\w-]+(?:\.[\w-]+){0,15}$/
const PATTERN = /^(?:[\w-]+|\*\*?)(?:\.(?:[\w-]+|\*\*?)){0,15}$/

/** The slow path: say which segment is wrong and why. */
const explain = (value: unknown, what: 'topic' | 'pattern'): never => {
  const code = what === 'topic' ? 'INVALID_TOPIC' : 'INVALID_PATTERN'
  if (typeof value !== 'string') return fail(code, `${what} must be a string, got ${typeof value}`)
  const segs = value.split('.')
  const i = segs.findIndex((s) => !/^[\w-]+$/.test(s) && (what === 'topic' || !/^\*\*?$/.test(s)))
  const s = segs[i]
  return fail(
    code,
    i < 0
      ? `${what} "${value}" has ${segs.length} segments; at most ${MAX_SEGMENTS} are allowed`
      : `${what} "${value}": segment ${i + 1} ("${s}") ${
          s === ''
            ? 'is empty'
            : !s!.includes('*')
              ? 'has characters outside [A-Za-z0-9_-]'
              : what === 'topic'
                ? 'is a wildcard, which only patterns may use'
                : 'mixes a wildcard with other characters'
        }`,
  )
}

// Topics found valid: publishing a known one skips the regular expression. Bounded, since topics
// come from callers (HTTP among them): the set starts over past 1,024.
let validTopics = new Set<string>()

/**
 * Validates a topic (1..16 dot-separated segments of `[A-Za-z0-9_-]+`). Throws `INVALID_TOPIC`
 * naming the offending segment.
 *
 * @example
 * checkTopic('order.placed') // ok
 * checkTopic('order.*')      // throws TidingsError INVALID_TOPIC: segment 2 ("*") is a wildcard…
 */
export const checkTopic = (topic: unknown): void => {
  if (validTopics.has(topic as string)) return
  if (typeof topic !== 'string' || !TOPIC.test(topic)) explain(topic, 'topic')
  if (validTopics.size >= 1024) validTopics = new Set()
  validTopics.add(topic as string)
}

/**
 * Validates a pattern (a topic that may use `*` for one segment and `**` for zero or more) and
 * returns its segments. Throws `INVALID_PATTERN` naming the offending segment.
 *
 * @example
 * patternSegments('order.**') // ['order', '**']
 */
export const patternSegments = (pattern: unknown): string[] =>
  typeof pattern === 'string' && PATTERN.test(pattern)
    ? pattern.split('.')
    : explain(pattern, 'pattern')

interface Node<T> {
  c: Map<string, Node<T>> | undefined
  v: T[]
  /** Reached by a `**` edge: it may consume any number of segments. */
  many: boolean
  /** The step of a match that last made this node live (so a step lists each node once). */
  seen: number
}
const node = <T>(many: boolean): Node<T> => ({ c: undefined, v: [], many, seen: 0 })

/**
 * A topic trie: many patterns, one topic, cost independent of the patterns that do not match.
 *
 * @example
 * const trie = createTrie<string>()
 * const remove = trie.add('order.*', 'a')
 * trie.match('order.placed') // ['a']
 * remove()
 */
export interface Trie<T> {
  /** Adds a value under a pattern; returns its remover. */
  add(pattern: string, value: T): () => void
  /**
   * The values whose patterns match the topic, each once, in no particular order. `meter`, if
   * given, counts the nodes visited (tests prove the cost linear with it).
   */
  match(topic: string, meter?: { steps: number }): T[]
  /** How many values the trie holds. */
  readonly size: number
}

/** Adds to `into` every node reachable from `n` through `**` edges alone (a `**` may match nothing). */
const closure = <T>(n: Node<T>, into: Node<T>[], step: number): void => {
  for (let m: Node<T> | undefined = n; m && m.seen !== step; m = m.c?.get('**')) {
    m.seen = step
    into.push(m)
  }
}

/** Creates an empty {@link Trie}. */
export const createTrie = <T>(): Trie<T> => {
  const root = node<T>(false)
  let size = 0
  // Numbers each step of every match; a node whose `seen` equals the current step is already live.
  let step = 0

  return {
    get size() {
      return size
    },
    add(pattern, value) {
      // `**.**` matches what `**` does: one node for a run keeps the live set small.
      const segs = patternSegments(pattern).filter((s, i, all) => s !== '**' || all[i - 1] !== '**')
      const path: Node<T>[] = [root]
      let n = root
      for (const s of segs) {
        let next = (n.c ??= new Map()).get(s)
        if (!next) n.c.set(s, (next = node<T>(s === '**')))
        path.push((n = next))
      }
      n.v.push(value)
      size++
      let removed = false
      return () => {
        if (removed) return
        removed = true
        const leaf = path[path.length - 1]!
        const at = leaf.v.indexOf(value)
        if (at >= 0) leaf.v.splice(at, 1)
        size--
        // Prune empty branches so a churn of one-off patterns does not leak nodes.
        for (let i = segs.length; i > 0; i--) {
          const child = path[i]!
          if (child.v.length || child.c?.size) break
          path[i - 1]!.c!.delete(segs[i - 1]!)
        }
      }
    },
    match(topic, meter) {
      // The set of live nodes, stepped once per segment (an NFA over the trie): each node is visited
      // at most once per segment, so many `**` cannot make the walk exponential, and only nodes on a
      // path the topic can take are ever live.
      let live: Node<T>[] = []
      closure(root, live, ++step)
      for (const seg of topic.split('.')) {
        const next: Node<T>[] = []
        const s = ++step
        for (const n of live) {
          if (meter) meter.steps++
          if (n.many) closure(n, next, s)
          const c = n.c
          if (!c) continue
          const exact = c.get(seg)
          if (exact) closure(exact, next, s)
          const star = c.get('*')
          if (star) closure(star, next, s)
        }
        if (!next.length) return []
        live = next
      }
      const out: T[] = []
      for (const n of live) for (const v of n.v) out.push(v)
      return out
    },
  }
}

type Split<S extends string> = S extends `${infer H}.${infer T}` ? [H, ...Split<T>] : [S]
type MatchSegs<T extends string[], P extends string[]> = P extends [
  '**',
  ...infer PR extends string[],
]
  ? MatchSegs<T, PR> extends true
    ? true
    : T extends [string, ...infer TR extends string[]]
      ? MatchSegs<TR, P>
      : false
  : P extends [infer PH extends string, ...infer PR extends string[]]
    ? T extends [infer TH extends string, ...infer TR extends string[]]
      ? PH extends '*' | TH
        ? MatchSegs<TR, PR>
        : false
      : false
    : T extends []
      ? true
      : false

/**
 * The keys of an event map that a pattern matches, at the type level.
 * With an open map (`string` keys) every pattern yields `string`.
 *
 * @example
 * type T = MatchingTopics<'order.placed' | 'order.paid' | 'user.created', 'order.*'> // 'order.placed' | 'order.paid'
 */
export type MatchingTopics<Topics extends string, P extends string> = string extends Topics
  ? Topics
  : string extends P
    ? Topics
    : Topics extends unknown
      ? MatchSegs<Split<Topics>, Split<P>> extends true
        ? Topics
        : never
      : never
