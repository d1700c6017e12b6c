import type { Bus } from '../../src/bus.js'
import { encodeCursor, type BusEvent } from '../../src/event.js'

/** What {@link openFeed} streams: a pattern, a content test and an optional cursor to resume after. */
export interface FeedOptions {
  pattern: string
  test: (e: BusEvent) => boolean
  /** A cursor from this bus: the backlog after it is sent before live events. */
  from?: string | undefined
  /** Past this many events waiting for a slow client, the feed ends with 'overflow'. */
  queue: number
}

/**
 * One live stream for one client, shared by SSE and WebSocket: the listener is registered before
 * the backlog is read, so nothing published in between is missed, and an event both saw is sent
 * once (by seq). `send` gets the event and the cursor that resumes right after it.
 */
export const openFeed = (bus: Bus, o: FeedOptions) => {
  const queue: BusEvent[] = []
  let wake = () => {}
  let stopped = false
  const off = bus.on(o.pattern, (e) => { if (o.test(e)) { queue.push(e); wake() } })
  return {
    stop(): void { stopped = true; wake() },
    /** Resolves when stopped, or with 'overflow' when the client fell too far behind. */
    async run(send: (e: BusEvent, id: string) => Promise<void> | void): Promise<'stopped' | 'overflow'> {
      let next = -1
      const emit = async (e: BusEvent) => {
        if (e.seq < next) return
        next = e.seq + 1
        await send(e, encodeCursor([next]))
      }
      try {
        if (o.from !== undefined) {
          for (let cursor = o.from; ;) {
            const page = await bus.read({ from: cursor, pattern: o.pattern, limit: 500 })
            for (const e of page.events) if (o.test(e)) await emit(e)
            if (page.events.length < 500 || stopped) break
            cursor = page.next
          }
        }
        while (!stopped) {
          // Cut off rather than hold an unbounded queue: the client resumes from the log.
          if (queue.length > o.queue) return 'overflow'
          const e = queue.shift()
          if (e) await emit(e)
          else await new Promise<void>((r) => { wake = r })
        }
        return 'stopped'
      } finally {
        off()
      }
    },
  }
}
