// Queues: at most 100 messages and 256 KB per sendBatch.
const BATCH_MESSAGES = 100
const BATCH_BYTES = 250_000

/**
 * @internal One message waiting to go to the Queue: its body, its size in bytes (UTF-8 JSON), and
 * how its attempt fails when it cannot be sent.
 *
 * @example
 * const m: Outgoing<object> = { body, bytes: 120, reject: (e) => lease.reject(e) }
 */
export interface Outgoing<Body> {
  body: Body
  bytes: number
  reject(e: unknown): void
}

/**
 * @internal Sends messages in chunks the Queue accepts (100 messages, 256 KB); a message in a chunk
 * that failed to send has its attempt fail now rather than at the end of its lease.
 *
 * @example
 * await sendInChunks(env.DELIVERY, outbox)
 */
export const sendInChunks = async <Body>(queue: Queue, all: Outgoing<Body>[]): Promise<void> => {
  for (let i = 0; i < all.length;) {
    const chunk: typeof all = []
    for (
      let bytes = 0;
      i < all.length && chunk.length < BATCH_MESSAGES && bytes + all[i]!.bytes <= BATCH_BYTES;
      i++
    ) {
      bytes += all[i]!.bytes
      chunk.push(all[i]!)
    }
    if (!chunk.length) chunk.push(all[i++]!)
    try {
      await queue.sendBatch(chunk.map((m) => ({ body: m.body, contentType: 'json' as const })))
    } catch (e) {
      // Not sent: the attempt fails now rather than at the end of its lease.
      for (const m of chunk) m.reject(e)
    }
  }
}
