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
}

/**
 * A received event (a CloudEvent read by `fromCloudEvent`, an SSE frame) as publish input: type,
 * data, id and source, and the envelope options it carries.
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
  return input
}
