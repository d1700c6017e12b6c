// superjson's wire format (2.2.6), written out for the values the bus carries, so the core speaks it
// without depending on superjson: `{ json, meta: { values, v: 1 } }`, where `values` is an annotation
// tree keyed by dot paths (dots and backslashes in keys escaped). Referential equalities are neither
// written nor read.

/**
 * @internal A superjson annotation tree: `[type]` for a value, `[type, children]` for a Map or Set
 * with annotated insides, or bare children under a plain object or array. Children are keyed by
 * escaped dot paths.
 *
 * @example
 * const a: Annotations = { 'at': ['Date'], 'tags': ['set', { '0': ['bigint'] }] }
 */
export type Annotations = [string, Children?] | Children
/** @internal Children of an {@link Annotations} node, by escaped dot path. @example const c: Children = { 'a\\.b': ['undefined'] } */
export interface Children {
  [path: string]: Annotations
}

/**
 * @internal A superjson payload: plain JSON plus, when anything in it is not JSON, the annotations
 * that restore it. `meta` is absent when the value is JSON as is.
 *
 * @example
 * const t: Tagged = { json: { at: '1970-01-01T00:00:00.000Z' }, meta: { values: { at: ['Date'] }, v: 1 } }
 */
export interface Tagged {
  json: unknown
  meta?: { values: Annotations; v: 1 }
}

const isPlain = (v: unknown): v is Record<string, unknown> => {
  if (typeof v !== 'object' || v === null) return false
  const p: unknown = Object.getPrototypeOf(v)
  return p === Object.prototype || p === null
}
const escape = (k: string) => k.replace(/\\/g, '\\\\').replace(/\./g, '\\.')

// [annotation, JSON stand-in] for a value JSON cannot hold, in superjson's rule order.
const rule = (v: unknown): [string, unknown] | undefined =>
  v === undefined
    ? ['undefined', null]
    : typeof v === 'bigint'
      ? ['bigint', String(v)]
      : v instanceof Date
        ? isNaN(+v)
          ? undefined
          : ['Date', v.toISOString()]
        : v instanceof RegExp
          ? ['regexp', String(v)]
          : v instanceof Set
            ? ['set', [...v]]
            : v instanceof Map
              ? ['map', [...v]]
              : typeof v === 'number' && (!isFinite(v) || Object.is(v, -0))
                ? ['number', Object.is(v, -0) ? '-0' : String(v)]
                : undefined

// Defined, not assigned: a `__proto__` path is a key like any other, never the object's prototype.
const put = (o: object, k: string, v: unknown) =>
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })

const walk = (v: unknown, ancestors: unknown[]): [unknown, Annotations | undefined] => {
  const r = rule(v)
  if (!(v instanceof Map || v instanceof Set || Array.isArray(v) || isPlain(v)))
    return r ? [r[1], [r[0]]] : [v, undefined]
  if (ancestors.includes(v)) return [null, undefined] // a cycle, as superjson does
  const src = (r ? r[1] : v) as unknown[] | Record<string, unknown>
  const children: Children = {}
  const child = (k: string, x: unknown): unknown => {
    const [json, a] = walk(x, [...ancestors, v])
    const p = escape(k)
    if (Array.isArray(a)) put(children, p, a)
    else if (a) for (const q in a) put(children, p + '.' + q, a[q]!)
    return json
  }
  // Arrays by index, so a hole comes back as undefined rather than shifting the paths.
  const json = Array.isArray(src)
    ? Array.from(src, (x, i) => child(String(i), x))
    : Object.fromEntries(Object.entries(src).map(([k, x]) => [k, child(k, x)])) // own data props, even `__proto__`
  const any = Object.keys(children).length > 0
  return [json, r ? (any ? [r[0], children] : [r[0]]) : any ? children : undefined]
}

/**
 * @internal Encodes a value as superjson 2.2.6 would (`superjson.serialize`), for undefined, bigint,
 * Date, RegExp, Map, Set, NaN, ±Infinity and -0, nested anywhere in plain objects, arrays, maps
 * and sets. `meta` is absent exactly when the value is JSON-safe.
 *
 * @example
 * toTagged({ at: new Date(0) }) // { json: { at: '1970-01-01T00:00:00.000Z' }, meta: { values: { at: ['Date'] }, v: 1 } }
 * toTagged({ n: 1 })            // { json: { n: 1 } }
 */
export const toTagged = (value: unknown): Tagged => {
  const [json, values] = walk(value, [])
  return values ? { json, meta: { values, v: 1 } } : { json }
}

const untag = (type: unknown, v: unknown): unknown => {
  switch (type) {
    case 'undefined':
      return undefined
    case 'bigint':
      return BigInt(v as string)
    case 'Date': {
      const d = new Date(v as string)
      if (!isNaN(+d)) return d
      break
    }
    case 'regexp': {
      const s = String(v),
        i = s.lastIndexOf('/')
      return new RegExp(s.slice(1, i), s.slice(i + 1))
    }
    case 'set':
      if (Array.isArray(v)) return new Set(v)
      break
    case 'map':
      if (Array.isArray(v)) return new Map(v as [unknown, unknown][])
      break
    case 'number':
      return Number(v)
  }
  throw new Error(`cannot apply annotation ${JSON.stringify(type)}`)
}

const parsePath = (s: string, legacy: boolean): string[] => {
  const out: string[] = []
  let seg = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!,
      n = s[i + 1]
    if (c === '\\' && (n === '.' || (!legacy && n === '\\'))) seg += s[++i]
    else if (c === '.') {
      out.push(seg)
      seg = ''
    } else seg += c
  }
  out.push(seg)
  return out
}

// Only own properties are followed, so a path can never reach a prototype.
const setIn = (v: unknown, [k, ...rest]: string[], f: (x: unknown) => unknown): unknown => {
  if (k === undefined) return f(v)
  if (typeof v !== 'object' || v === null || !Object.hasOwn(v, k))
    throw new Error(`no value at path segment ${JSON.stringify(k)}`)
  const o = v as Record<string, unknown>
  // Defined, not assigned: at a `__proto__` key, assignment would set the object's prototype.
  Object.defineProperty(o, k, {
    value: setIn(o[k], rest, f),
    enumerable: true,
    writable: true,
    configurable: true,
  })
  return v
}
// Children first, then the node itself, as superjson does (a Map's entries are fixed before it is built).
const node = (v: unknown, a: unknown, legacy: boolean): unknown =>
  Array.isArray(a)
    ? untag(a[0], a[1] === undefined ? v : kids(v, a[1], legacy))
    : kids(v, a, legacy)
const kids = (v: unknown, c: unknown, legacy: boolean): unknown => {
  if (!isPlain(c)) throw new Error('malformed annotations')
  for (const [p, a] of Object.entries(c))
    v = setIn(v, parsePath(p, legacy), (x) => node(x, a, legacy))
  return v
}

/**
 * @internal Decodes a superjson payload (`superjson.deserialize`) for the types {@link toTagged}
 * writes; also reads pre-v1 (unescaped) paths. Leaves the payload untouched; throws a plain `Error`
 * on anything malformed (`json` missing included) or on an annotation it does not know.
 *
 * @example
 * fromTagged({ json: { at: '1970-01-01T00:00:00.000Z' }, meta: { values: { at: ['Date'] }, v: 1 } }) // { at: new Date(0) }
 */
export const fromTagged = (payload: unknown): unknown => {
  if (!isPlain(payload)) throw new Error('expected { json, meta }')
  const meta = isPlain(payload.meta) ? payload.meta : {}
  const json: unknown = JSON.parse(JSON.stringify(payload.json)) // a copy: the payload stays untouched
  return meta.values == null ? json : node(json, meta.values, !((meta.v as number) >= 1))
}
