/** One server-sent event: its `id` (the resume cursor) and `data` (its event name is not needed). */
interface SseMessage {
  id: string | undefined
  data: string
}

/**
 * Reads a `text/event-stream` body (over fetch, which unlike EventSource can send an
 * `Authorization` header and a `Last-Event-ID` of our choosing) and hands over the complete
 * messages of each chunk together, awaiting `onMessages` before reading on: the receiver's
 * commits pace the stream, and its cursor never runs ahead of what it stored.
 */
export const readSse = async (
  body: ReadableStream<Uint8Array>,
  onMessages: (m: SseMessage[]) => Promise<void>,
): Promise<void> => {
  const reader = body.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  let data: string[] = []
  let id: string | undefined
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) return
      buffer += decoder.decode(value, { stream: true })
      const lines = buffer.split(/\r\n|\r|\n/)
      buffer = lines.pop()!
      const out: SseMessage[] = []
      for (const line of lines) {
        if (line === '') {
          if (data.length) out.push({ id, data: data.join('\n') })
          data = []
          continue
        }
        if (line.startsWith(':')) continue // a comment: keep-alive
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const v = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'data') data.push(v)
        else if (field === 'id') id = v
      }
      if (out.length) await onMessages(out)
    }
  } finally {
    reader.cancel().catch(() => {})
  }
}
