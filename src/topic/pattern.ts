import { patternSegments } from './topic.js'

/**
 * Counts the work a matcher does, so tests can prove it linear without a clock.
 *
 * @example
 * const meter: Meter = { steps: 0 }
 * matchSegments(['**', 'x'], ['a', 'x'], meter) // meter.steps grows by the positions visited
 */
export interface Meter {
  steps: number
}

/**
 * Whether pattern segments match topic segments, stepping the set of live pattern positions once
 * per topic segment (an NFA, at most 17 positions as a bit set): time is linear in the segments
 * however many `**` the pattern holds, where a backtracking matcher goes exponential.
 *
 * @example
 * matchSegments(['order', '**'], ['order', 'placed', 'eu']) // true
 */
export const matchSegments = (
  p: readonly string[],
  t: readonly string[],
  meter?: Meter,
): boolean => {
  const n = p.length
  // Bit i set: the first i pattern segments match the topic so far. `**` may match nothing, so a live
  // position before a `**` also makes the position after it live.
  const close = (set: number): number => {
    for (let i = 0; i < n; i++) if (set & (1 << i) && p[i] === '**') set |= 1 << (i + 1)
    return set
  }
  let live = close(1)
  for (let j = 0; j < t.length && live; j++) {
    let next = 0
    for (let i = 0; i < n; i++) {
      if (!(live & (1 << i))) continue
      if (meter) meter.steps++
      const s = p[i]
      if (s === '**') next |= 1 << i
      else if (s === '*' || s === t[j]) next |= 1 << (i + 1)
    }
    live = close(next)
  }
  return (live & (1 << n)) !== 0
}

/**
 * Compiles a pattern into a predicate over topics, for one-off checks (reads, waits). Many
 * patterns against one topic belong in a trie (`createTrie`).
 *
 * @example
 * const isOrder = compilePattern('order.*')
 * isOrder('order.placed') // true
 * isOrder('order')        // false
 */
export const compilePattern = (pattern: string): ((topic: string) => boolean) => {
  // `**.**` matches what `**` does: one position for a run keeps the live set small.
  const p = patternSegments(pattern).filter((s, i, all) => s !== '**' || all[i - 1] !== '**')
  if (!pattern.includes('*')) return (topic) => topic === pattern
  return (topic) => matchSegments(p, topic.split('.'))
}

/**
 * Whether every topic `wanted` can match is also matched by `granted` (scope checks). The topics
 * `wanted` may match are walked symbolically, each with the set of `granted` positions it leaves
 * live (as in {@link matchSegments}): a wildcard of `wanted` stands for each literal `granted`
 * names and for one it does not, so `a.*.**` covers `a.**.a` and `**.*` covers `*.**`. States
 * are (position in `wanted`, live set), each visited once: never exponential in the `**` of `wanted`.
 *
 * @example
 * patternCovers('order.**', 'order.*.eu') // true
 * patternCovers('order.*', 'order.**')    // false
 */
export const patternCovers = (granted: string, wanted: string): boolean => {
  const g = patternSegments(granted).filter((s, i, all) => s !== '**' || all[i - 1] !== '**')
  const w = patternSegments(wanted)
  const n = g.length
  const close = (set: number): number => {
    for (let i = 0; i < n; i++) if (set & (1 << i) && g[i] === '**') set |= 1 << (i + 1)
    return set
  }
  const step = (set: number, segment: string): number => {
    let next = 0
    for (let i = 0; i < n; i++) {
      if (!(set & (1 << i))) continue
      if (g[i] === '**') next |= 1 << i
      else if (g[i] === '*' || g[i] === segment) next |= 1 << (i + 1)
    }
    return close(next)
  }
  // '' is no segment: it stands for every segment `granted` does not name, matched by its wildcards only.
  const kinds = [...new Set(g.filter((s) => s !== '*' && s !== '**')), '']
  const seen = new Set<number>()
  // [position in wanted, live granted positions, whether a segment was consumed (a topic has one)]
  const todo: [number, number, boolean][] = [[0, close(1), false]]
  for (let state = todo.pop(); state; state = todo.pop()) {
    const [j, set, some] = state
    const key = (j * 2 + (some ? 1 : 0)) * 2 ** 17 + set
    if (seen.has(key)) continue
    seen.add(key)
    if (j === w.length) {
      if (some && !(set & (1 << n))) return false
      continue
    }
    const s = w[j]!
    if (s === '**') {
      todo.push([j + 1, set, some])
      for (const k of kinds) todo.push([j, step(set, k), true])
    } else if (s === '*') for (const k of kinds) todo.push([j + 1, step(set, k), true])
    else todo.push([j + 1, step(set, s), true])
  }
  return true
}
