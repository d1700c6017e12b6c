// Generated inputs shared by the core's property tests: every storable type, and what breaks naive
// code (cycles, throwing getters and Proxies, huge sparse arrays, deep nesting, prototype keys).
import fc from 'fast-check'

/** What a getter or Proxy trap throws: the refusal must carry it as `cause`. */
export class Boom extends Error {
  constructor() {
    super('boom')
    this.name = 'Boom'
  }
}

/** Storable values, nested: JSON and every non-JSON type the bus keeps (Date, Map, Set, BigInt, undefined, NaN, -0, RegExp). */
export const storable: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  leaf: fc.oneof(
    fc.string(),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.constantFrom(NaN, -0, Infinity, -Infinity),
    fc.bigInt(),
    fc.date({ noInvalidDate: true }),
    fc.constant(/a+b/gi),
  ),
  node: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    tie('leaf'),
    fc.array(tie('node'), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'),
      ),
      tie('node'),
      { maxKeys: 4 },
    ),
    fc.array(tie('node'), { maxLength: 3 }).map((a) => new Set(a)),
    fc.array(fc.tuple(tie('leaf'), tie('node')), { maxLength: 3 }).map((a) => new Map(a)),
  ),
})).node

/** A plain object with an own `__proto__` key (as JSON.parse makes it), holding `inner`. */
export const protoKeyed = (
  inner: unknown,
  rest: Record<string, unknown> = {},
): Record<string, unknown> => {
  const o: Record<string, unknown> = { ...rest }
  Object.defineProperty(o, '__proto__', {
    value: inner,
    enumerable: true,
    writable: true,
    configurable: true,
  })
  return o
}

const nested = (depth: number, array: boolean): unknown => {
  let v: unknown = 1
  for (let i = 0; i < depth; i++) v = array ? [v] : { a: v }
  return v
}

/**
 * A generated input built on demand, printed by its label: fast-check's reporter would otherwise
 * call into a throwing Proxy while printing a counterexample.
 */
export class Made<T = unknown> {
  constructor(
    readonly label: string,
    readonly make: () => T,
  ) {}
  [fc.toStringMethod]() {
    return this.label
  }
}
const made = <T>(label: string, make: () => T) => fc.constant(new Made(label, make))

/** Values no store can keep, or that throw when read: each must be refused with a coded error, never a raw throw. */
export const hostile: fc.Arbitrary<Made> = fc.oneof(
  made('a cyclic object', () => {
    const o: Record<string, unknown> = { a: 1 }
    o.self = o
    return o
  }),
  made('a cyclic array', () => {
    const a: unknown[] = [1]
    a.push([a])
    return a
  }),
  made('a getter that throws', () =>
    Object.defineProperty({ a: 1 }, 'b', {
      enumerable: true,
      get() {
        throw new Boom()
      },
    }),
  ),
  made('a nested getter that throws', () => [
    1,
    Object.defineProperty({}, 'x', {
      enumerable: true,
      get() {
        throw new Boom()
      },
    }),
  ]),
  fc.constantFrom('ownKeys', 'get', 'getPrototypeOf', 'getOwnPropertyDescriptor', 'has').map(
    (trap) =>
      new Made(`a Proxy whose ${trap} throws`, () => ({
        deep: new Proxy(
          { a: 1 },
          {
            [trap]() {
              throw new Boom()
            },
          },
        ),
      })),
  ),
  made('a revoked Proxy', () => {
    const p = Proxy.revocable({}, {})
    p.revoke()
    return { p: p.proxy }
  }),
  fc.constantFrom(1e6, 1e8, 2 ** 32 - 1).map(
    (n) =>
      new Made(`a sparse array of length ${n}`, () => {
        const a: unknown[] = []
        a.length = n
        return { sparse: a }
      }),
  ),
  fc
    .constantFrom(100, 10_000)
    .chain((d) =>
      fc
        .boolean()
        .map(
          (array) =>
            new Made(`${d} levels of ${array ? 'arrays' : 'objects'}`, () => nested(d, array)),
        ),
    ),
  fc
    .constantFrom<[string, () => unknown]>(
      ['a function', () => () => 1],
      ['a symbol', () => Symbol('s')],
      ['a Uint8Array', () => new Uint8Array(3)],
      ['an Int32Array', () => new Int32Array(2)],
      [
        'a class instance',
        () =>
          new (class Point {
            x = 1
          })(),
      ],
      ['an Invalid Date', () => new Date(NaN)],
      ['an Error', () => new Error('e')],
      ['a WeakMap', () => new WeakMap()],
      ['a Promise', () => Promise.resolve(1)],
    )
    .map(([label, v]) => new Made(`{ v: ${label} }`, () => ({ v: v() }))),
  made('{"__proto__":{"isAdmin":true},"x":1} parsed', () =>
    JSON.parse('{"__proto__":{"isAdmin":true},"x":1}'),
  ),
  storable.map(
    (inner) =>
      new Made(`an own __proto__ key holding ${fc.stringify(inner)}`, () =>
        protoKeyed(inner, { constructor: { prototype: 1 } }),
      ),
  ),
)

/** Any value at all, the odd ones included: Symbols, BigInts, functions, Proxies that throw, boxed values. */
export const weird: fc.Arbitrary<unknown> = fc.oneof(
  fc.anything({
    withBigInt: true,
    withDate: true,
    withMap: true,
    withSet: true,
    withTypedArray: true,
    withSparseArray: true,
    withNullPrototype: true,
    withBoxedValues: true,
    maxDepth: 2,
  }),
  fc.string().map((s) => Symbol(s)),
  fc.bigInt(),
  fc.constantFrom(
    NaN,
    -0,
    Infinity,
    -Infinity,
    1e21,
    -1e21,
    1e-5,
    2 ** 53,
    Number.MAX_VALUE,
    Number.MIN_VALUE,
  ),
  made(
    'a Proxy whose every trap throws',
    () =>
      new Proxy(
        {},
        {
          get() {
            throw new Boom()
          },
          ownKeys() {
            throw new Boom()
          },
          has() {
            throw new Boom()
          },
          getPrototypeOf() {
            throw new Boom()
          },
        },
      ),
  ),
  made('an object whose getters throw', () =>
    Object.defineProperty({}, 'seq', {
      enumerable: true,
      get() {
        throw new Boom()
      },
    }),
  ),
  fc.constant(() => 1),
)

/** A {@link weird} value, made fresh (Proxies are built per run). */
export const value = (v: unknown): unknown => (v instanceof Made ? v.make() : v)
