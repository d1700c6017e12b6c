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
export interface GlobMeter {
  steps: number
}

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
      if (e !== '*' && e !== '\\')
        return `has an invalid escape at position ${i + 1} (only \\* and \\\\ are allowed)`
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
    const lo = c.toLowerCase(),
      up = c.toUpperCase()
    out.push(lo === up ? [lo] : [lo, up])
  }
  return out
}

/**
 * Whether the tokens match the whole of `s`, never backtracking: the live token positions are
 * stepped once per character (a ring of rows, as alternatives may consume more than one character),
 * and only live positions are visited. A trailing `*` accepts the rest at once; a pattern that
 * starts with `*` but does not end with one is matched from the end of `s`, so neither
 * `prefix` nor `suffix` with `equals-ignore-case` keeps a position live per character of a long
 * value: those take time linear in the rule, whatever the value's length. `meter.steps` counts
 * every position visited.
 *
 * @example
 * matchTokens([null, ['x']], 'aax') // true
 */
export const matchTokens = (tokens: readonly Token[], s: string, meter?: GlobMeter): boolean => {
  const m = tokens.length
  // Leading `*` and no trailing one (a suffix): from the end, the `*` becomes trailing.
  const back = m > 1 && tokens[0] === null && tokens[m - 1] !== null
  const order = back ? [...tokens].reverse() : tokens
  const n = s.length
  const at = back
    ? (a: string, i: number) => s.endsWith(a, n - i)
    : (a: string, i: number) => s.startsWith(a, i)
  let longest = 1
  for (const t of order) if (t) for (const a of t) longest = Math.max(longest, a.length)
  const L = longest + 1
  const lists: number[][] = Array.from({ length: L }, () => [])
  const marks = Array.from({ length: L }, () => new Uint8Array(m + 1))
  let pending = 0 // live positions in rows not yet processed: when none are left, nothing can match
  const live = (i: number, j: number) => {
    const r = i % L
    if (!marks[r]![j]) {
      marks[r]![j] = 1
      lists[r]!.push(j)
      pending++
    }
  }
  live(0, 0)
  const endsWithStar = m > 0 && order[m - 1] === null
  for (let i = 0; i <= n; i++) {
    const list = lists[i % L]!,
      mark = marks[i % L]!
    // A `*` may match nothing: a live position before it makes the one after it live (the list grows as it is read).
    for (let k = 0; k < list.length; k++) {
      if (meter) meter.steps++
      const j = list[k]!
      if (j < m && order[j] === null) live(i, j + 1)
    }
    // Past a trailing `*`, whatever is left of `s` matches.
    if (mark[m] && (endsWithStar || i === n)) return true
    if (i === n) return false
    for (const j of list) {
      mark[j] = 0
      pending--
      if (j === m) continue
      if (meter) meter.steps++
      const t = order[j] as Token
      if (t === null) {
        live(i + 1, j)
        continue
      }
      for (const a of t) if (at(a, i)) live(i + a.length, j + 1)
    }
    list.length = 0
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
  const first = pieces[0]!,
    last = pieces[pieces.length - 1]!,
    middle = pieces.slice(1, -1).filter((p) => p)
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
