// The live panel after a reload: the latest events from the edge's log (GET /events, the HTTP
// app's read route), so the dashboard does not start empty; the sockets carry on from there.
import { fromCloudEvent, type BusEvent } from 'tidings'
import { latest } from './latest.js'

/** How many of the log's latest events the panel starts with. */
export const HISTORY = 50

/** Reads the edge's log to its end and resolves its latest events, oldest first. */
export const loadHistory = async (n = HISTORY): Promise<BusEvent[]> => {
  const pages: BusEvent[][] = []
  for (let from = ''; ;) {
    const r = await fetch(`/events?limit=1000${from && `&from=${encodeURIComponent(from)}`}`)
    if (!r.ok) throw new Error(`GET /events: ${r.status}`)
    const page = (await r.json()) as { events: unknown[]; next: string }
    const events = page.events.map((ce) => {
      const e = fromCloudEvent(ce)
      return { ...e, time: e.time ?? 0, seq: e.seq ?? 0 } as BusEvent
    })
    // Trim as we go: the log holds up to the retention limit, the panel wants n.
    pages.splice(0, pages.length, latest([...pages, events], n))
    if (page.events.length < 1000) return pages[0] ?? []
    from = page.next
  }
}
