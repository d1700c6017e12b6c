import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { durableObjectStore } from '../../adapters/cloudflare/store.js'
import type { Store } from '../../src/store/store.js'
import { storeConformance } from '../../src/testing.js'
import { fresh, testEnv } from './helpers.js'

/**
 * The store runs inside the object (its storage can only be touched there): every call of the
 * suite goes in through runInDurableObject, each handle with its own durableObjectStore instance.
 */
const handle = (stub: DurableObjectStub): Store & { stub: DurableObjectStub } => {
  let store: Store | undefined
  const inside = <T>(f: (s: Store) => Promise<T>) =>
    runInDurableObject(stub, (_, state) => f((store ??= durableObjectStore(state.storage))))
  return {
    stub,
    get: (k) => inside((s) => s.get(k)),
    list: (o) => inside((s) => s.list(o)),
    commit: (c) => inside((s) => s.commit(c)),
  }
}

storeConformance(
  'durableObjectStore (SQLite, in workerd)',
  {
    open: () => handle(testEnv.STORE_HOST.get(testEnv.STORE_HOST.idFromName(fresh('store')))),
    reopen: (s) => handle((s as ReturnType<typeof handle>).stub),
  },
  { describe, it, expect },
)

describe('durableObjectStore', () => {
  it('keeps versions unique across handles and refuses values it cannot encode before writing', async () => {
    const stub = testEnv.STORE_HOST.get(testEnv.STORE_HOST.idFromName(fresh('store')))
    const a = handle(stub),
      b = handle(stub)
    const r1 = await a.commit({ mutations: [{ type: 'set', key: 'x', value: 1 }] })
    const r2 = await b.commit({ mutations: [{ type: 'set', key: 'y', value: 2 }] })
    expect(r1.ok && r2.ok && r1.version !== r2.version).toBe(true)
    // A BigInt inside is fine.
    expect((await a.commit({ mutations: [{ type: 'set', key: 'z', value: { n: 1n } }] })).ok).toBe(
      true,
    )
    expect((await b.get('z'))?.value).toEqual({ n: 1n })
    // A value whose encoding throws fails the whole commit before anything of it is written.
    const bad = {
      get x() {
        throw new Error('cannot be read')
      },
    }
    await expect(
      a.commit({
        mutations: [
          { type: 'set', key: 'w', value: 1 },
          { type: 'set', key: 'v', value: bad },
        ],
      }),
    ).rejects.toThrow()
    expect(await b.get('w')).toBeUndefined()
  })
})
