// The edge's live events: one hibernating WebSocket per shard (`/live/<shard>`, served by the
// shard's BusObject). Each frame is superjson text of `{ cursor, event }`; a reconnect resumes
// from the last cursor of that shard, with no gap and no duplicate.
import type { BusEvent } from 'tidings'

/** Opens one socket per shard and calls `onEvent` for every event; `onStatus` hears how many are open. */
export const liveEvents = (
  shards: number,
  onEvent: (e: BusEvent) => void,
  onStatus: (open: number, of: number) => void,
) => {
  const open = new Set<number>()
  const connect = (shard: number, from?: string) => {
    const url = new URL(`/live/${shard}`, location.href)
    url.protocol = url.protocol.replace('http', 'ws')
    if (from) url.searchParams.set('from', from)
    const ws = new WebSocket(url)
    let last = from
    ws.onopen = () => {
      open.add(shard)
      onStatus(open.size, shards)
    }
    ws.onmessage = (m) => {
      // The values here are plain JSON, so superjson's `json` half is the whole message.
      const { cursor, event } = (
        JSON.parse(String(m.data)) as { json: { cursor: string; event: BusEvent } }
      ).json
      last = cursor
      onEvent(event)
      // The object pauses a socket that falls too far behind its acks; a demo page keeps up, so it acks each event.
      ws.send(JSON.stringify({ ack: cursor }))
    }
    ws.onclose = () => {
      open.delete(shard)
      onStatus(open.size, shards)
      setTimeout(() => connect(shard, last), 1000)
    }
  }
  for (let s = 0; s < shards; s++) connect(s)
}
