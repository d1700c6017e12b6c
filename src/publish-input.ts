import { ENVELOPE_OPTIONS } from './check.js'
import type { IncomingEvent } from './cloudevent.js'

/** An event received from elsewhere, as `publish` / `publishMany` take it: its id and source kept. */
export type ReceivedInput = {
  type: string
  data: unknown
  id: string
  source: string
  key?: string
  correlationId?: string
  causationId?: string
  traceparent?: string
  /** The payload's version (`dataversion`): kept, so the receiving bus upcasts an old client's event. */
  version?: number
}

/**
 * A received event (a CloudEvent read by `fromCloudEvent`, an SSE frame) as publish input: type,
 * data, id and source, the envelope options it carries and its version.
 *
 * @example
 * await bus.publishMany(events.map((e) => publishInputOf(fromCloudEvent(e))))
 */
export const publishInputOf = (event: IncomingEvent): ReceivedInput => {
  const input: ReceivedInput = {
    type: event.type,
    data: event.data,
    id: event.id,
    source: event.source,
  }
  for (const field of ENVELOPE_OPTIONS) if (event[field] !== undefined) input[field] = event[field]
  if (event.version !== undefined) input.version = event.version
  return input
}
