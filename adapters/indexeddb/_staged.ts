import type { PublishOptions } from '../../src/bus.js'
import { fail } from '../../src/errors.js'
import { snapshot } from '../../src/_payload.js'
import { checkTopic } from '../../src/topic.js'

/** An event staged in the outbox object store, waiting to be drained into the log. */
export interface Staged extends PublishOptions { id: string; type: string; data: unknown }

const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/
const TEXT = ['id', 'key', 'source', 'correlationId', 'causationId', 'traceparent'] as const

/**
 * The checks `publish` makes before it takes a place in line, made synchronously (inside an
 * IndexedDB transaction nothing else may be awaited): topic, options, payload shape and size.
 * A Standard Schema of the bus runs when the event is drained (a validator may be async).
 */
export const stage = (type: string, data: unknown, options: PublishOptions, maxBytes: number): Staged => {
  checkTopic(type)
  for (const k of TEXT) {
    const v = options[k]
    if (v !== undefined && (typeof v !== 'string' || !v || v.length > 512 || (k === 'traceparent' && !TRACEPARENT.test(v)))) {
      fail('INVALID_OPTIONS', `${k} ${JSON.stringify(v)} is not a string of 1..512 characters${k === 'traceparent' ? ' in W3C form' : ''}`)
    }
  }
  const [copy, bytes] = snapshot(data)
  if (bytes + type.length + 200 > maxBytes) fail('PAYLOAD_TOO_LARGE', `event "${type}" is about ${bytes} bytes serialized; the limit is ${maxBytes}`)
  // The id is fixed now, so draining twice (two tabs, a crash between commit and drain) appends once.
  const staged: Staged = { ...options, type, data: copy, id: options.id ?? `outbox-${crypto.randomUUID()}` }
  for (const k of TEXT) if (staged[k] === undefined) delete staged[k]
  return staged
}
