import { describeValue } from './describe.js'
import { TidingsError } from './errors.js'
import type { Log } from './log/log.js'

/**
 * `bus.cancel`: drops a delayed event that is not yet due; anything but an id is refused.
 *
 * @example
 * await cancel(log, 'o1-reminder') // true when it was still waiting
 */
export const cancel = (log: Pick<Log, 'cancel'>, id: unknown): Promise<boolean> =>
  typeof id === 'string'
    ? log.cancel(id)
    : Promise.reject(
        new TidingsError('INVALID_OPTIONS', `cancel takes an event id, got ${describeValue(id)}`),
      )
