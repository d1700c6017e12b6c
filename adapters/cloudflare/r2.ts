import { fail } from '../../src/errors.js'
import type { PublishInput } from '../../src/bus.js'

/**
 * The body of an R2 event notification, as R2 puts it on a Queue.
 *
 * @example
 * const n: R2Notification = { account: 'a', bucket: 'uploads', action: 'DeleteObject', object: { key: 'x.png' }, eventTime: '2026-05-01T00:00:00Z' }
 */
export interface R2Notification {
  account: string
  bucket: string
  /** `PutObject`, `CopyObject`, `CompleteMultipartUpload`, `DeleteObject`, `LifecycleDeletion`... */
  action: string
  object: { key: string; size?: number; eTag?: string }
  /** ISO 8601. */
  eventTime: string
  copySource?: { bucket: string; object: string }
}

const CREATE = new Set(['PutObject', 'CopyObject', 'CompleteMultipartUpload'])
const DELETE = new Set(['DeleteObject', 'LifecycleDeletion'])

/**
 * Whether a Queue message body is an R2 event notification.
 *
 * @example
 * for (const m of batch.messages) if (isR2Notification(m.body)) ...
 */
export const isR2Notification = (body: unknown): body is R2Notification => {
  const b = body as Partial<R2Notification> | null
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.bucket === 'string' &&
    typeof b.action === 'string' &&
    typeof b.object === 'object' &&
    b.object !== null &&
    typeof b.object.key === 'string' &&
    typeof b.eventTime === 'string'
  )
}

const sha256 = async (s: string) =>
  [...new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(s)))]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')

/**
 * The bus event for an R2 event notification (the storage-change trigger):
 *
 * | field | value |
 * |---|---|
 * | `type` | `r2.object.create` (PutObject, CopyObject, CompleteMultipartUpload), `r2.object.delete` (DeleteObject, LifecycleDeletion), `r2.object.other` (any other action) |
 * | `id` | `r2:` + SHA-256 of (bucket, key, action, eTag, eventTime): the Queue redelivering a notification stores nothing new |
 * | `key` | `<bucket>/<object key>` (hashed when longer than 512 characters): one object's changes stay in order |
 * | `source` | `r2:<bucket>` |
 * | `data` | the notification, as R2 sent it |
 *
 * @example
 * const e = await r2Event({ account: 'a', bucket: 'uploads', action: 'PutObject', object: { key: 'x.png', size: 3, eTag: 'e1' }, eventTime: '2026-05-01T00:00:00Z' })
 * e.type // 'r2.object.create'
 */
export const r2Event = async (
  n: R2Notification,
): Promise<PublishInput & { id: string; key: string; source: string }> => {
  if (!isR2Notification(n))
    fail(
      'INVALID_PAYLOAD',
      'not an R2 event notification: expected { bucket, action, object: { key }, eventTime }',
    )
  const type = CREATE.has(n.action)
    ? 'r2.object.create'
    : DELETE.has(n.action)
      ? 'r2.object.delete'
      : 'r2.object.other'
  const id =
    'r2:' +
    (await sha256(
      JSON.stringify([n.bucket, n.object.key, n.action, n.object.eTag ?? '', n.eventTime]),
    ))
  const path = `${n.bucket}/${n.object.key}`
  const key = path.length <= 512 ? path : 'r2:' + (await sha256(path))
  return { type, data: n, id, key, source: `r2:${n.bucket}` }
}
