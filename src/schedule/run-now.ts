import { coded, optionsOf } from '../check.js'
import type { Clock } from '../clock/clock.js'
import { badSchedule as bad, checkScheduleName as checkName, type KnownSchedule } from './spec.js'

/** What running a schedule now needs from the scheduler. */
export interface RunNowHost {
  clock: Clock
  publish(type: string, data: unknown, options: { id: string }): Promise<unknown>
}

/**
 * Publishes a schedule's event now, outside its ticks (`bus.runSchedule`): with the given id, or
 * `schedule:<name>:run:<now>`.
 *
 * @example
 * await runScheduleNow(host, records, 'nightly', { id: 'manual-1' })
 */
export const runScheduleNow = (
  host: RunNowHost,
  records: Map<string, KnownSchedule>,
  name: string,
  options?: { id?: string },
): Promise<unknown> => {
  let id
  try {
    ;({ id } = optionsOf(options, 'runSchedule'))
  } catch (e) {
    throw coded(e, 'INVALID_OPTIONS', 'reading the options of runSchedule() threw')
  }
  const r = records.get(checkName(name))
  if (!r || r.rec.done) return bad(name, 'no such schedule')
  return host.publish(r.rec.spec.type, r.rec.spec.data, {
    id: id ?? `schedule:${name}:run:${host.clock.now()}`,
  })
}
