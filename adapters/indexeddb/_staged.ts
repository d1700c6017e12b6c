import type { PublishOptions } from '../../src/bus.js'
import { checkEvent, optionsOf, type EventLimits } from '../../src/check.js'

/** An event staged in the outbox object store, waiting to be drained into the log. */
export interface Staged extends PublishOptions {
  id: string
  type: string
  data: unknown
}

const TEXT = ['id', 'key', 'source', 'correlationId', 'causationId', 'traceparent'] as const

/**
 * The checks `publish` makes before it takes a place in line, made synchronously (inside an
 * IndexedDB transaction nothing else may be awaited) by the bus's own {@link checkEvent}: topic,
 * options, payload shape and the size of the whole envelope against the bus's limits, so what is
 * staged is what the drain can append. A Standard Schema of the bus runs when the event is drained
 * (a validator may be async).
 */
export const stage = (
  type: string,
  data: unknown,
  options: PublishOptions | undefined,
  limits: EventLimits,
): Staged => {
  const o = optionsOf(options, 'outbox publish')
  // The id is fixed now, so draining twice (two tabs, a crash between commit and drain) appends once;
  // the size is checked with it, as the drain will publish it.
  const id = o.id ?? `outbox-${crypto.randomUUID()}`
  const draft = checkEvent(type, data, { ...o, id }, limits)
  const staged: Staged = { ...o, type, data: draft.data, id }
  for (const k of TEXT) if (staged[k] === undefined) delete staged[k]
  return staged
}
