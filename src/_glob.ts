/**
 * String rules of filters (wildcard, equals-ignore-case and its prefix/suffix forms) as a sequence of
 * tokens matched by a non-backtracking automaton: time O(string length × tokens), whatever the input.
 */

/** One token: the strings it may consume (alternatives), or `null` for a `*` (any run, even empty). */
export type Token = readonly string[] | null

/**
 * Counts automaton steps, so tests can prove matching linear without a clock.
 *
 * @example
 * const meter: GlobMeter = { steps: 0 }
 */
export interface GlobMeter { steps: number }

/**
 * Parses an EventBridge wildcard: `*` matches any run of characters, `\*` a star, `\\` a backslash.
 * Returns the tokens, or a reason the value is refused (consecutive `*`, as EventBridge refuses;
 * any other escape).
 *
 * @example
 * parseWildcard('*.png') // [null, ['.'], ['p'], ['n'], ['g']]
 * parseWildcard('a**')   // 'has consecutive wildcard characters at position 2'
 */
export const parseWildcard = (value: string): Token[] | string => {
  const out: Token[] = []
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!
    if (c === '*') {
      if (value[i + 1] === '*') return `has consecutive wildcard characters at position ${i + 1}`
      out.push(null)
    } else if (c === '\\') {
      const e = value[i + 1]
      if (e !== '*' && e !== '\\') return `has an invalid escape at position ${i + 1} (only \\* and \\\\ are allowed)`
      out.push([e])
      i++
    } else out.push([c])
  }
  return out
}

/**
 * Tokens matching `value` ignoring case as EventBridge does: each UTF-16 unit of the rule matches its
 * lower- or upper-case form (either may be longer than one unit, e.g. `ß` and `SS`).
 *
 * @example
 * ignoreCase('Ab') // [['a', 'A'], ['b', 'B']]
 */
export const ignoreCase = (value: string): Token[] => {
  const out: Token[] = []
  for (const c of value.split('')) {
    const lo = c.toLowerCase(), up = c.toUpperCase()
    out.push(lo === up ? [lo] : [lo, up])
  }
  return out
}

/**
 * Whether the tokens match the whole of `s`: the set of live token positions is stepped once per
 * character (a ring of rows, as alternatives may consume more than one character), never backtracking.
 *
 * @example
 * matchTokens([null, ['x']], 'aax') // true
 */
export const matchTokens = (tokens: readonly Token[], s: string, meter?: GlobMeter): boolean => {
  const m = tokens.length
  let longest = 1
  for (const t of tokens) if (t) for (const a of t) longest = Math.max(longest, a.length)
  const L = longest + 1
  const rows = Array.from({ length: L }, () => new Uint8Array(m + 1))
  rows[0]![0] = 1
  let pending = 1 // live entries in rows not yet processed: when none are left, nothing can match
  for (let i = 0; i <= s.length; i++) {
    const row = rows[i % L]!
    // A `*` may match nothing: a live position before it makes the one after it live.
    for (let j = 0; j < m; j++) if (row[j] && tokens[j] === null && !row[j + 1]) { row[j + 1] = 1; pending++ }
    if (i === s.length) return row[m] === 1
    for (let j = 0; j <= m; j++) {
      if (!row[j]) continue
      row[j] = 0
      pending--
      if (j === m) continue
      if (meter) meter.steps++
      const t = tokens[j] as Token
      if (t === null) {
        const next = rows[(i + 1) % L]!
        if (!next[j]) { next[j] = 1; pending++ }
        continue
      }
      for (const a of t) {
        if (!s.startsWith(a, i)) continue
        const next = rows[(i + a.length) % L]!
        if (!next[j + 1]) { next[j + 1] = 1; pending++ }
      }
    }
    if (!pending) return false
  }
  return false
}

/**
 * A wildcard's matcher: the literal pieces between its stars, the first anchored at the start, the
 * last at the end, and each one between at its leftmost place after the one before (leftmost is
 * always safe, as it leaves the most room). One pass over the string, whatever the stars.
 *
 * @example
 * const isPng = wildcardMatcher(parseWildcard('img-*.png') as Token[])
 * isPng('img-42.png') // true
 */
export const wildcardMatcher = (tokens: readonly Token[]): ((s: string) => boolean) => {
  const pieces = ['']
  for (const t of tokens) {
    if (t === null) pieces.push('')
    else pieces[pieces.length - 1] += t[0]!
  }
  if (pieces.length === 1) return (s) => s === pieces[0]
  const first = pieces[0]!, last = pieces[pieces.length - 1]!, middle = pieces.slice(1, -1).filter((p) => p)
  return (s) => {
    if (!s.startsWith(first) || !s.endsWith(last)) return false
    const end = s.length - last.length
    let at = first.length
    if (at > end) return false
    for (const p of middle) {
      const i = s.indexOf(p, at)
      if (i < 0 || i + p.length > end) return false
      at = i + p.length
    }
    return true
  }
}
