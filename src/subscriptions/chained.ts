import type { BusEvent } from '../event.js'

/**
 * A W3C traceparent for a child span: the same trace id, a new span id.
 *
 * @example
 * childSpan('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01') // '00-4bf9…4736-<new span>-01'
 */
export const childSpan = (parent: string): string => {
  const span = crypto
    .getRandomValues(new Uint8Array(8))
    .reduce((hex, byte) => hex + byte.toString(16).padStart(2, '0'), '')
  return `${parent.slice(0, 36)}${span}${parent.slice(52)}`
}

/**
 * The options of a chained publish (`ctx.publish` in a handler): caused by `event`, in its
 * correlation, a child span of its trace, and an id stable across retries (`<subscription>:<event
 * id>:<n>` for the handler's n-th call) unless the caller gives one. `nextCall` is asked only then.
 * Traced, `spanParent` (the handling span's traceparent) is the chained event's parent instead.
 *
 * @example
 * let calls = 0
 * bus.publish(type, data, chainedOptions('mailer', event, options, () => calls++))
 */
export const chainedOptions = <O extends { id?: string }>(
  subscription: string,
  event: BusEvent,
  options: O,
  nextCall: () => number,
  spanParent?: string,
): O & { id: string; causationId: string; correlationId: string; traceparent?: string } => {
  const traceparent = spanParent || (event.traceparent && childSpan(event.traceparent))
  return {
    ...options,
    id: options.id ?? `${subscription}:${event.id}:${nextCall()}`,
    causationId: event.id,
    correlationId: event.correlationId ?? event.id,
    ...(traceparent ? { traceparent } : {}),
  }
}
