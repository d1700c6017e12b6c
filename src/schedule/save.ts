import type { Clock } from '../clock/clock.js'
import { keys } from '../store/keys.js'
import type { Store } from '../store/store.js'
import type { ScheduleSpec } from '../types.js'
import { badSchedule, sameSpec, type KnownSchedule, type ScheduleRecord } from './spec.js'

/**
 * Stores a checked spec under its name, checked against the record's version (retried when another
 * bus wrote in between). Resolves with what was stored, or `undefined` when the same spec was
 * already there. A changed spec counts from now for its first tick, keeping `lastFiredAt`.
 *
 * @example
 * const stored = await saveSchedule(store, clock, 'nightly', spec)
 */
export const saveSchedule = async (
  store: Store,
  clock: Clock,
  name: string,
  spec: ScheduleSpec,
): Promise<KnownSchedule | undefined> => {
  const key = keys.schedule(name)
  for (;;) {
    const e = await store.get(key)
    const old = e?.value as ScheduleRecord | undefined
    if (old && sameSpec(old.spec, spec)) return undefined
    const now = clock.now()
    if (spec.at !== undefined && (spec.at as number) <= now)
      badSchedule(name, `at ${spec.at} (epoch ms) is in the past`)
    const rec: ScheduleRecord = {
      name,
      spec,
      created: old?.created ?? now,
      ...(old?.lastFiredAt !== undefined ? { lastFiredAt: old.lastFiredAt } : {}),
    }
    if (old) rec.created = now
    const res = await store.commit({
      checks: [{ key, version: e?.version ?? null }],
      mutations: [{ type: 'set', key, value: rec }],
    })
    if (res.ok) return { rec, version: res.version, next: undefined }
  }
}

/**
 * Deletes a schedule not yet done. Resolves `undefined` when there was none (or it was done),
 * else whether the delete committed.
 *
 * @example
 * const removed = await deleteSchedule(store, 'nightly')
 */
export const deleteSchedule = async (store: Store, name: string): Promise<boolean | undefined> => {
  const key = keys.schedule(name)
  const e = await store.get(key)
  if (!e || (e.value as ScheduleRecord).done) return undefined
  const res = await store.commit({
    checks: [{ key, version: e.version }],
    mutations: [{ type: 'delete', key }],
  })
  return res.ok
}

/**
 * Reads one schedule's record again into `records` (dropping it when it is gone), keeping its
 * planned next tick.
 *
 * @example
 * await reloadSchedule(store, records, 'nightly')
 */
export const reloadSchedule = async (
  store: Store,
  records: Map<string, KnownSchedule>,
  name: string,
): Promise<void> => {
  const e = await store.get(keys.schedule(name))
  if (!e) {
    records.delete(name)
    return
  }
  const had = records.get(name)
  records.set(name, { rec: e.value as ScheduleRecord, version: e.version, next: had?.next })
}
