/**
 * Any value, described for an error message without calling into it: a Symbol, a BigInt, a
 * Proxy whose traps throw all describe safely.
 *
 * @example
 * describeValue(Symbol('x')) // 'Symbol(x)'
 * describeValue('abc')       // '"abc"'
 */
export const describeValue = (value: unknown): string =>
  typeof value === 'string'
    ? JSON.stringify(value.slice(0, 60))
    : typeof value === 'function'
      ? 'a function'
      : value && typeof value === 'object'
        ? 'an object'
        : String(value)
