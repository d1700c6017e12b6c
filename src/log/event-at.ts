import type { BusEvent } from '../event.js'
import { keys, PREFIX } from '../store/keys.js'
import type { Store } from '../store/store.js'
import { eventsOf } from './segments.js'

/**
 * The stored event with seq `seq`, whatever retention's cut (a dead runtime's attempt may be older).
 *
 * @example
 * const event = await eventAt(store, 42)
 */
export const eventAt = async (store: Store, seq: number): Promise<BusEvent | undefined> => {
  const [holding] = await store.list({
    prefix: PREFIX.events,
    end: keys.event(seq + 1),
    reverse: true,
    limit: 1,
  })
  return holding && eventsOf(holding.value).find((event) => event.seq === seq)
}
