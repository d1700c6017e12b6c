import type { SubscribeOptions } from '../types.js'
import type { SubscriptionsCore } from './attached.js'
import { keys, type SubRecord } from './record.js'
import { startAt } from './start-point.js'

/**
 * Writes the record a subscribe asks for (pattern, filter, start), unless the stored one says the
 * same, and pins its cursor.
 *
 * @example
 * await register(core, 'mailer', 'user.*', { from: 'earliest' })
 */
export const register = async (
  core: SubscriptionsCore,
  name: string,
  pattern: string,
  options: SubscribeOptions,
): Promise<void> => {
  const { base } = core
  const { store, clock, log } = base
  for (;;) {
    const got = await core.read(name)
    const cursor = got ? got.record.cursor : await startAt(log, options.from)
    const record: SubRecord = {
      ...got?.record,
      name,
      pattern,
      cursor,
      created: got?.record.created ?? clock.now(),
    }
    // A declarative filter is stored with the subscription; a function one lives only here.
    if (options.filter && typeof options.filter !== 'function') record.filter = options.filter
    else delete record.filter
    const same =
      got &&
      got.record.pattern === pattern &&
      JSON.stringify(got.record.filter) === JSON.stringify(record.filter)
    if (!same) {
      const result = await store.commit({
        checks: [{ key: keys.sub(name), version: got?.version ?? null }],
        mutations: [{ type: 'set', key: keys.sub(name), value: record }],
      })
      if (!result.ok) continue
    }
    base.pin(name, record.cursor)
    return
  }
}
