import { expect, it } from 'vitest'
import { openDB } from 'idb'

it('runs in a real browser with IndexedDB', async () => {
  const db = await openDB('smoke', 1, { upgrade: (d) => { d.createObjectStore('s') } })
  await db.put('s', 'v', 'k')
  expect(await db.get('s', 'k')).toBe('v')
  expect(typeof BroadcastChannel).toBe('function')
  expect(typeof navigator.locks.request).toBe('function')
  db.close()
})
