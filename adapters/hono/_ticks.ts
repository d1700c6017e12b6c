import { fail, parseTickId, tickId } from '../../src/internal.js'
import type { ServedBus } from './served-bus.js'

/**
 * A schedule's ticks have ids anyone can predict (`schedule:<name>:<tick>`): no client may take one
 * in the namespace of a schedule this bus has, or the tick would be a duplicate and never stored.
 * Others (a browser's own schedules, forwarded by its bridge) pass.
 *
 * @example
 * await refuseTickIds(bus, ['schedule:nightly:1700000000000']) // INVALID_PAYLOAD if this bus has "nightly"
 */
export const refuseTickIds = async (
  bus: Pick<ServedBus, 'schedules'>,
  ids: readonly string[],
): Promise<void> => {
  const ticks = ids.flatMap((id) => {
    const tick = parseTickId(id)
    return tick ? [{ id, name: tick.name }] : []
  })
  if (!ticks.length) return
  const names = new Set((await bus.schedules()).map((s) => s.name))
  for (const { id, name } of ticks) {
    if (names.has(name))
      fail(
        'INVALID_PAYLOAD',
        `ids starting with "${tickId(name, '')}" belong to this bus's schedule, got ${JSON.stringify(id)}`,
      )
  }
}
