import { patternSegments } from './topic.js'

/**
 * Counts the work a matcher does, so tests can prove it linear without a clock.
 *
 * @example
 * const meter: Meter = { steps: 0 }
 * matchSegments(['**', 'x'], ['a', 'x'], meter) // meter.steps grows by the positions visited
 */
export interface Meter { steps: number }

/**
 * Whether pattern segments match topic segments, stepping the set of live pattern positions once
 * per topic segment (an NFA, at most 17 positions as a bit set): time is linear in the segments
 * however many `**` the pattern holds, where a backtracking matcher goes exponential.
 *
 * @example
 * matchSegments(['order', '**'], ['order', 'placed', 'eu']) // true
 */
export const matchSegments = (p: readonly string[], t: readonly string[], meter?: Meter): boolean => {
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
 * Whether every topic `wanted` can match is also matched by `granted` (scope checks), by a table over
 * segment pairs: quadratic in segments at worst, never exponential.
 *
 * @example
 * patternCovers('order.**', 'order.*.eu') // true
 * patternCovers('order.*', 'order.**')    // false
 */
export const patternCovers = (granted: string, wanted: string): boolean => {
  const g = patternSegments(granted), w = patternSegments(wanted)
  const W = w.length + 1
  // memo[i * W + j]: 0 unknown, 1 yes, 2 no, for "g from i covers w from j".
  const memo = new Uint8Array((g.length + 1) * W)
  const go = (i: number, j: number): boolean => {
    const k = i * W + j
    if (memo[k]) return memo[k] === 1
    let v: boolean
    if (i === g.length) v = j === w.length
    else if (g[i] === '**') v = go(i + 1, j) || (j < w.length && go(i, j + 1))
    else v = j < w.length && w[j] !== '**' && (g[i] === '*' || g[i] === w[j]) && go(i + 1, j + 1)
    memo[k] = v ? 1 : 2
    return v
  }
  return go(0, 0)
}
