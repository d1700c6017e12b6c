import type { Bus } from '../../src/bus.js'
import { encodeCursor, type BusEvent } from '../../src/event.js'

/** What {@link openFeed} streams: a pattern, a content test and an optional position to resume after. */
export interface FeedOptions {
  pattern: string
  test: (e: BusEvent) => boolean
  /**
   * An id this feed sent (a cursor of the bus), or 'earliest' for the oldest retained event: what
   * follows is sent before live events. Without it, the feed starts at the next event.
   */
  from?: string | undefined
  /** Past this many events waiting for a slow client, the feed ends with 'overflow'. */
  queue: number
  /** Tail the log with `bus.read` every this many ms instead of listening with `bus.on`. */
  poll?: number | undefined
}

/** A live stream for one client: `send` gets each event and the id that resumes right after it. */
export interface Feed {
  stop(): void
  /** Resolves when stopped, or with 'overflow' when the client fell too far behind. */
  run(send: (e: BusEvent, id: string) => Promise<void> | void): Promise<'stopped' | 'overflow'>
}

/** Listening (`bus.on`, the default) or tailing the log (`poll`, for a bus without `on`). */
export const openFeed = (bus: Bus, o: FeedOptions): Feed =>
  o.poll ? tailFeed(bus, o, o.poll) : listenFeed(bus, o)

/**
 * The listener is registered before the backlog is read, so nothing published in between is
 * missed, and an event both saw is sent once (by seq). Ids are the bus's cursors.
 */
const listenFeed = (bus: Bus, o: FeedOptions): Feed => {
  const queue: BusEvent[] = []
  let wake = () => {}
  let stopped = false
  // Past the bound the feed ends at once, even while a send (of the backlog) is still pending:
  // the listener goes and the queue is dropped, and the client resumes from the log.
  let overflowed = false
  let onOverflow = () => {}
  const overflow = new Promise<'overflow'>((r) => {
    onOverflow = () => r('overflow')
  })
  const off: () => void = bus.on(o.pattern, (e) => {
    if (overflowed || !o.test(e)) return
    queue.push(e)
    if (queue.length > o.queue) {
      overflowed = true
      off()
      queue.length = 0
      onOverflow()
    }
    wake()
  })
  const drive = async (
    send: (e: BusEvent, id: string) => Promise<void> | void,
  ): Promise<'stopped' | 'overflow'> => {
    let next = -1
    const emit = async (e: BusEvent) => {
      if (e.seq < next) return
      next = e.seq + 1
      await send(e, encodeCursor([next]))
    }
    if (o.from !== undefined) {
      for (let cursor = o.from === 'earliest' ? undefined : o.from; ;) {
        const page = await bus.read({
          ...(cursor === undefined ? {} : { from: cursor }),
          pattern: o.pattern,
          limit: 500,
        })
        for (const e of page.events) if (o.test(e) && !stopped) await emit(e)
        if (page.events.length < 500 || stopped) break
        cursor = page.next
      }
    }
    while (!stopped) {
      // Cut off rather than hold an unbounded queue: the client resumes from the log.
      if (overflowed) return 'overflow'
      const e = queue.shift()
      if (e) await emit(e)
      else
        await new Promise<void>((r) => {
          wake = r
        })
    }
    return 'stopped'
  }
  return {
    // Unlistens here too: a feed stopped before it ran (a socket closed before its first message)
    // would otherwise keep its listener, and a queue that grows with every event, forever.
    stop() {
      stopped = true
      off()
      queue.length = 0
      wake()
    },
    async run(send) {
      const driving = drive(send)
      driving.catch(() => {}) // when the overflow wins, a send failing later is no one's business
      try {
        return await Promise.race([driving, overflow])
      } finally {
        stopped = true
        off()
        wake()
      }
    },
  }
}

const PAGE = 500

/**
 * Reads the log page by page with the bus's own opaque cursors (`read({ cursors: true })` gives
 * the cursor right after each event), so it works over any bus: the Cloudflare client's cursors
 * cover every shard. Nothing is queued in memory beyond one page.
 */
const tailFeed = (bus: Bus, o: FeedOptions, every: number): Feed => {
  let stopped = false
  let wake = () => {}
  let timer: ReturnType<typeof setTimeout> | undefined
  const pause = () =>
    new Promise<void>((r) => {
      wake = r
      timer = setTimeout(r, every)
    })
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
      wake()
    },
    async run(send) {
      // From now: the end of the log, by name, so no event is read to find it.
      let cursor =
        o.from === 'earliest'
          ? undefined
          : (o.from ?? (await bus.read({ from: 'latest', limit: 1 })).next)
      while (!stopped) {
        const page: { events: BusEvent[]; next: string; cursors?: string[] } = await bus.read({
          ...(cursor === undefined ? {} : { from: cursor }),
          pattern: o.pattern,
          limit: PAGE,
          cursors: true,
        })
        for (const [i, e] of page.events.entries()) {
          if (stopped) return 'stopped'
          // A bus that gives no per-event cursors: the page's end, so a resume may repeat a page.
          const id = page.cursors?.[i] ?? page.next
          if (o.test(e)) await send(e, id)
        }
        cursor = page.next
        if (page.events.length < PAGE) await pause()
      }
      return 'stopped'
    },
  }
}
