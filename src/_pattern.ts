import { patternSegments } from './topic.js'

const matchFrom = (p: string[], pi: number, t: string[], ti: number): boolean => {
  for (; pi < p.length; pi++, ti++) {
    const s = p[pi]
    if (s === '**') {
      for (let k = ti; k <= t.length; k++) if (matchFrom(p, pi + 1, t, k)) return true
      return false
    }
    if (ti >= t.length || (s !== '*' && s !== t[ti])) return false
  }
  return ti === t.length
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
  const p = patternSegments(pattern)
  if (!pattern.includes('*')) return (topic) => topic === pattern
  return (topic) => matchFrom(p, 0, topic.split('.'), 0)
}
