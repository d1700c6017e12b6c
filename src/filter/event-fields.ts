/**
 * The event side of a compiled filter: how a field's value is read from an event, arrays of arrays
 * flattened as EventBridge does.
 */

/** A compiled test over one value. */
export type Test = (v: unknown) => boolean

/**
 * A plain object or class instance, not an array (what a filter key reads into).
 *
 * @example
 * isObj({ a: 1 }) // true; isObj([1]) // false
 */
export const isObj = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x)

/** An object the filter descends into (a plain record), as opposed to a leaf value. */
const isRecord = (x: unknown): boolean => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false
  const proto: unknown = Object.getPrototypeOf(x)
  return proto === Object.prototype || proto === null
}
/**
 * An own property of an object, or undefined (never the prototype's).
 *
 * @example
 * get({ a: 1 }, 'a') // 1; get({}, 'toString') // undefined
 */
export const get = (o: unknown, k: string): unknown =>
  isObj(o) && Object.hasOwn(o, k) ? o[k] : undefined
// Arrays nest at most this deep in the event before the rest is ignored (a cyclic array ends here).
const MAX_ARRAY_DEPTH = 1024

/**
 * Whether `f` holds for any element of `a`, arrays of arrays flattened at any depth (as EventBridge
 * does), without recursion. Reports through `seen` whether any element was visited at all.
 */
const someFlat = (
  a: readonly unknown[],
  f: (x: unknown) => boolean,
  seen?: { any: boolean },
): boolean => {
  const stack: [readonly unknown[], number][] = []
  let cur = a,
    i = 0
  for (;;) {
    if (i < cur.length) {
      const x = cur[i++]
      if (Array.isArray(x)) {
        if (stack.length < MAX_ARRAY_DEPTH) {
          stack.push([cur, i])
          cur = x
          i = 0
        }
      } else {
        if (seen) seen.any = true
        if (f(x)) return true
      }
    } else {
      const top = stack.pop()
      if (!top) return false
      ;[cur, i] = top
    }
  }
}

/** A value EventBridge would see as a field's value: present, and neither an array nor an object. */
const isLeaf = (x: unknown): boolean => x !== undefined && !isRecord(x)

/**
 * A field's rules over its value. `exists` looks at leaves only (EventBridge: a field holding an
 * object or an empty array does not exist); every other rule needs a leaf it accepts.
 *
 * @example
 * leafField([(v) => v === 'eu'], false, false)(['us', 'eu']) // true
 */
export const leafField = (tests: Test[], existsTrue: boolean, existsFalse: boolean): Test => {
  const accepts = (x: unknown) => existsTrue || tests.some((t) => t(x))
  return (v) => {
    if (!Array.isArray(v)) return isLeaf(v) ? accepts(v) : existsFalse
    if (someFlat(v, (x) => isLeaf(x) && accepts(x))) return true
    return existsFalse && !someFlat(v, isLeaf)
  }
}

/**
 * A nested filter over a field's value: over each element when it is an array (arrays of arrays
 * flattened), so that two fields must match within one element (EventBridge's array consistency);
 * an empty array is an absent field.
 *
 * @example
 * nestedField((v) => v === undefined)([]) // true: an empty array is an absent field
 */
export const nestedField =
  (t: Test): Test =>
  (v) => {
    if (!Array.isArray(v)) return t(v)
    const seen = { any: false }
    return someFlat(v, t, seen) || (!seen.any && t(undefined))
  }
