import { seqKey, type Store } from './store.js'

/** The slice of a test runner the suite needs: pass vitest's, jest's or node:test-like functions. */
export interface TestApi {
  describe(name: string, fn: () => void): void
  it(name: string, fn: () => Promise<void> | void): void
  expect(value: unknown): {
    toBe(v: unknown): void
    toEqual(v: unknown): void
    not: { toBe(v: unknown): void }
  }
}

/** How the suite gets stores: `open` makes fresh, empty storage; `reopen` a second handle on it. */
export interface ConformanceTarget {
  open(): Promise<Store> | Store
  /** A new handle (connection, tab, instance) over the storage of `store`, when the backend has one. */
  reopen?(store: Store): Promise<Store> | Store
}

const set = (key: string, value: unknown) => ({ type: 'set' as const, key, value })
const keysOf = async (s: Store, o: Parameters<Store['list']>[0]) =>
  (await s.list(o)).map((e) => e.key)

/**
 * The store conformance suite: every backend runs it unchanged, so bus semantics hold on all.
 * It takes the runner's `describe`, `it` and `expect` instead of importing one.
 *
 * @example
 * import { describe, it, expect } from 'vitest'
 * import { storeConformance } from 'tidings/testing'
 * storeConformance('memoryStore', { open: () => memoryStore() }, { describe, it, expect })
 */
export const storeConformance = (
  name: string,
  target: ConformanceTarget,
  { describe, it, expect }: TestApi,
): void => {
  describe(`store conformance: ${name}`, () => {
    it('get of an absent key is undefined', async () => {
      const s = await target.open()
      expect(await s.get('nope')).toBe(undefined)
    })

    it('a commit writes values that get returns, stamped with the commit version', async () => {
      const s = await target.open()
      const r = await s.commit({ mutations: [set('a', { n: 1 }), set('b', 'two')] })
      expect(r.ok).toBe(true)
      const a = await s.get('a')
      expect(a?.value).toEqual({ n: 1 })
      expect(a?.key).toBe('a')
      expect(typeof a?.version).toBe('string')
      expect(a?.version).toBe(r.ok ? r.version : '')
      expect((await s.get('b'))?.version).toBe(a?.version)
    })

    it('a write changes the version of the keys it touches and only those', async () => {
      const s = await target.open()
      await s.commit({ mutations: [set('a', 1), set('b', 1)] })
      const [a1, b1] = [await s.get('a'), await s.get('b')]
      await s.commit({ mutations: [set('a', 2)] })
      const [a2, b2] = [await s.get('a'), await s.get('b')]
      expect(a2?.version).not.toBe(a1?.version)
      expect(b2?.version).toBe(b1?.version)
      expect(a2?.value).toBe(2)
    })

    it('checks: null expects absence, a version expects that version, and one failure writes nothing', async () => {
      const s = await target.open()
      expect(
        (await s.commit({ checks: [{ key: 'k', version: null }], mutations: [set('k', 1)] })).ok,
      ).toBe(true)
      const v = (await s.get('k'))!.version
      const again = await s.commit({
        checks: [{ key: 'k', version: null }],
        mutations: [set('k', 2), set('other', 1)],
      })
      expect(again.ok).toBe(false)
      expect((await s.get('k'))?.value).toBe(1)
      expect(await s.get('other')).toBe(undefined)
      expect(
        (await s.commit({ checks: [{ key: 'k', version: v }], mutations: [set('k', 3)] })).ok,
      ).toBe(true)
      const stale = await s.commit({
        checks: [
          { key: 'absent', version: null },
          { key: 'k', version: v },
        ],
        mutations: [{ type: 'delete', key: 'k' }, set('x', 1)],
      })
      expect(stale.ok).toBe(false)
      expect((await s.get('k'))?.value).toBe(3)
      expect(await s.get('x')).toBe(undefined)
    })

    it('a check on a deleted key sees it as absent', async () => {
      const s = await target.open()
      await s.commit({ mutations: [set('k', 1)] })
      await s.commit({ mutations: [{ type: 'delete', key: 'k' }] })
      expect(await s.get('k')).toBe(undefined)
      expect(
        (await s.commit({ checks: [{ key: 'k', version: null }], mutations: [set('k', 2)] })).ok,
      ).toBe(true)
    })

    it('concurrent commits racing on one check: exactly one wins', async () => {
      const s = await target.open()
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          s.commit({ checks: [{ key: 'lease', version: null }], mutations: [set('lease', i)] }),
        ),
      )
      expect(results.filter((r) => r.ok).length).toBe(1)
      const winner = results.findIndex((r) => r.ok)
      expect((await s.get('lease'))?.value).toBe(winner)
    })

    it('list returns keys in order, by prefix and by half-open range, with limit and reverse', async () => {
      const s = await target.open()
      const seqs = [1, 2, 9, 10, 11, 100, 1000]
      await s.commit({
        mutations: [
          ...seqs.map((n) => set(seqKey('e/', n), n)),
          set('e0', 'after'),
          set('d/x', 'before'),
          set('e', 'bare'),
        ],
      })
      expect((await s.list({ prefix: 'e/' })).map((e) => e.value)).toEqual(seqs)
      expect((await s.list({ prefix: 'e/', reverse: true, limit: 2 })).map((e) => e.value)).toEqual(
        [1000, 100],
      )
      expect((await s.list({ prefix: 'e/', limit: 3 })).map((e) => e.value)).toEqual([1, 2, 9])
      expect(
        (await s.list({ start: seqKey('e/', 9), end: seqKey('e/', 100) })).map((e) => e.value),
      ).toEqual([9, 10, 11])
      expect((await s.list({ prefix: 'e/', start: seqKey('e/', 11) })).map((e) => e.value)).toEqual(
        [11, 100, 1000],
      )
      expect(
        (await s.list({ prefix: 'e/', end: seqKey('e/', 10), reverse: true })).map((e) => e.value),
      ).toEqual([9, 2, 1])
      expect(await keysOf(s, { start: 'd', end: 'e0' })).toEqual([
        'd/x',
        'e',
        ...seqs.map((n) => seqKey('e/', n)),
      ])
      expect(await keysOf(s, { prefix: 'zzz' })).toEqual([])
      const all = await s.list({ prefix: 'e/' })
      expect(all.every((e) => typeof e.version === 'string')).toBe(true)
    })

    it('deleteRange removes [start, end) and nothing else', async () => {
      const s = await target.open()
      await s.commit({ mutations: [1, 2, 3, 4, 5].map((n) => set(seqKey('e/', n), n)) })
      await s.commit({
        mutations: [{ type: 'deleteRange', start: seqKey('e/', 2), end: seqKey('e/', 4) }],
      })
      expect((await s.list({ prefix: 'e/' })).map((e) => e.value)).toEqual([1, 4, 5])
    })

    it('a commit of many mutations lands whole', async () => {
      const s = await target.open()
      const r = await s.commit({
        mutations: Array.from({ length: 2000 }, (_, i) => set(seqKey('e/', i), { i })),
      })
      expect(r.ok).toBe(true)
      const all = await s.list({ prefix: 'e/' })
      expect(all.length).toBe(2000)
      expect(all[1999]?.value).toEqual({ i: 1999 })
    })

    it('values keep their shape: nested objects, Date, Map, Set, BigInt, undefined, unicode', async () => {
      const s = await target.open()
      const value = {
        s: 'héllo 🌍',
        n: -1.5,
        b: false,
        nil: null,
        u: undefined,
        big: 12345678901234567890n,
        d: new Date('2026-03-29T01:30:00Z'),
        m: new Map<unknown, unknown>([
          ['k', { deep: [1, 2] }],
          [2, 'two'],
        ]),
        set: new Set(['a', 1]),
        arr: [{ x: 1 }, [2, [3]]],
        long: 'x'.repeat(100_000),
      }
      await s.commit({ mutations: [set('v', value)] })
      const got = (await s.get('v'))?.value as typeof value
      expect(got).toEqual(value)
      expect(got.d instanceof Date).toBe(true)
      expect(got.m instanceof Map).toBe(true)
      expect(got.set instanceof Set).toBe(true)
      expect(typeof got.big).toBe('bigint')
      expect('u' in got).toBe(true)
    })

    if (target.reopen) {
      it('a second handle over the same storage sees committed data and races fairly', async () => {
        const a = await target.open()
        const b = await target.reopen!(a)
        await a.commit({ mutations: [set('shared', 1)] })
        const seen = await b.get('shared')
        expect(seen?.value).toBe(1)
        const [ra, rb] = await Promise.all([
          a.commit({
            checks: [{ key: 'shared', version: seen!.version }],
            mutations: [set('shared', 'a')],
          }),
          b.commit({
            checks: [{ key: 'shared', version: seen!.version }],
            mutations: [set('shared', 'b')],
          }),
        ])
        expect([ra.ok, rb.ok].filter(Boolean).length).toBe(1)
      })
    }

    it('watch, where offered, reports committed keys under its prefix until unwatched', async () => {
      const s = await target.open()
      if (!s.watch) return
      const watcher = target.reopen ? await target.reopen(s) : s
      const seen: string[] = []
      let wake = () => {}
      const unwatch = watcher.watch!('e/', (keys) => {
        seen.push(...keys)
        wake()
      })
      const arrived = new Promise<void>((r) => {
        wake = r
      })
      await s.commit({ mutations: [set('e/1', 1), set('x/1', 1)] })
      await arrived
      expect(seen).toEqual(['e/1'])
      unwatch()
      await s.commit({ mutations: [set('e/2', 2)] })
      await new Promise((r) => setTimeout(r, 50))
      expect(seen).toEqual(['e/1'])
    })
  })
}
