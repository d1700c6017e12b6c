/** The types of publishing: what `publish` and `publishMany` take and resolve. Types only. */
import type { EventMap, OpenEvents, Payload, PayloadAt } from './event.js'
import type { Appended } from './log/pending.js'

/** Per-publish options. `id` makes a retried publish a no-op within the dedup window. */
export interface PublishOptions {
  id?: string
  key?: string
  source?: string
  correlationId?: string
  causationId?: string
  traceparent?: string
}

/** When a delayed event is due: `delay` ms from now, or `at` (epoch ms or a Date). */
export type DelayOptions =
  { delay: number; at?: undefined } | { at: number | Date; delay?: undefined }

/** What a publish resolves once the event is durably stored. */
export interface PublishResult {
  id: string
  seq: number
  duplicate: boolean
  /**
   * On a duplicate, from buses whose cursors are more than a seq (the sharded Cloudflare client):
   * where the stored event can be read back, `read({ from: cursor, limit: 1 })`.
   */
  cursor?: string
}
/** What a delayed publish resolves: held aside until due, it has no `seq` yet. */
export type DelayedResult = Appended

/** One entry of `publishMany`. */
export type PublishInput<I extends EventMap = OpenEvents> = {
  [T in keyof I & string]: (
    | { type: T; data: Payload<I[T]>; version?: undefined }
    | { type: T; data: PayloadAt<I[T], number>; version: number }
  ) &
    PublishOptions &
    Partial<{ delay: number; at: number | Date }>
}[keyof I & string]
