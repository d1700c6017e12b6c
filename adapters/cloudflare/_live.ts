import type { Bus } from '../../src/bus.js'
import { decodeCursor, encodeCursor, type BusEvent } from '../../src/event.js'
import { compileFilter, type Filter } from '../../src/filter/filter.js'
import { compilePattern } from '../../src/topic/pattern.js'
import { toTagged } from '../../src/tagged.js'
import { fail } from '../../src/errors.js'
import { check } from './_wire.js'

/** @internal What each hibernatable socket keeps across hibernation (its attachment, < 2 KB). */
interface SocketState {
  pattern: string
  filter?: Filter
  next: number
  acked: number
  sent?: number
}

/**
 * @internal Live WebSocket subscribers on the hibernation API. The log is each socket's buffer:
 * a socket's position (`next`) only moves forward, and every send is read from storage from that
 * position, so a resume from a cursor has no gap and no duplicate, and nothing waits in memory.
 * A client acknowledges by sending `{"ack": cursor}`; one that falls `maxUnacked` log positions
 * behind is paused (sent nothing more) until it acknowledges, so a slow client costs a few numbers.
 *
 * @example
 * const live = liveSockets(ctx, bus, { maxUnacked: 1000 })
 * // in the object: fetch(req) { return live.accept(req) }
 */
export const liveSockets = (ctx: DurableObjectState, bus: Bus, o: { maxUnacked: number }) => {
  const running = new Set<WebSocket>()
  const dirty = new Set<WebSocket>()
  // Compiled matchers by attachment text: sockets wake from hibernation without them.
  const matchers = new Map<string, (e: BusEvent) => boolean>()
  const matcher = (s: SocketState) => {
    const k = JSON.stringify([s.pattern, s.filter])
    let m = matchers.get(k)
    if (!m) {
      const topic = compilePattern(s.pattern)
      const test = s.filter === undefined ? undefined : compileFilter(s.filter)
      matchers.set(k, (m = (e) => topic(e.type) && (!test || test(e))))
    }
    return m
  }

  const pump = async (ws: WebSocket) => {
    if (running.has(ws)) {
      dirty.add(ws)
      return
    }
    running.add(ws)
    try {
      do {
        dirty.delete(ws)
        const s = ws.deserializeAttachment() as SocketState | null
        if (!s) return
        const matches = matcher(s)
        for (;;) {
          const room = o.maxUnacked - (s.next - s.acked)
          if (room <= 0) break
          const limit = Math.min(room, 500)
          const { events } = await bus.read({ from: encodeCursor([s.next]), limit })
          for (const e of events) {
            // With everything sent acknowledged, a position the client is never sent moves its ack
            // along: it has nothing to acknowledge for it, and must not be paused by it.
            const idle = s.acked >= (s.sent ?? s.acked)
            s.next = e.seq + 1
            if (matches(e)) {
              ws.send(JSON.stringify(toTagged({ cursor: encodeCursor([s.next]), event: e })))
              s.sent = s.next
            } else if (idle) s.acked = s.next
          }
          if (events.length < limit) break
        }
        ws.serializeAttachment(s)
      } while (dirty.has(ws))
    } catch {
      // A socket closed mid-send: nothing to keep; the client resumes from its last cursor.
    } finally {
      running.delete(ws)
    }
  }

  let soon = false
  const notify = () => {
    if (soon) return
    soon = true
    queueMicrotask(() => {
      soon = false
      for (const ws of ctx.getWebSockets()) void pump(ws)
    })
  }
  bus.on('**', notify)

  return {
    /** Upgrades `?pattern=&filter=&from=` to a live socket of this shard. */
    async accept(request: Request): Promise<Response> {
      const url = new URL(request.url)
      const pattern = url.searchParams.get('pattern') ?? '**'
      const filterText = url.searchParams.get('filter')
      const from = url.searchParams.get('from')
      let filter: Filter | undefined
      try {
        filter = filterText === null ? undefined : (JSON.parse(filterText) as Filter)
      } catch {
        return fail('INVALID_FILTER', `filter ${JSON.stringify(filterText)} is not JSON`)
      }
      const s: SocketState = { pattern, next: 0, acked: 0, ...(filter ? { filter } : {}) }
      matcher(s) // refuses a bad pattern or filter before the upgrade
      // Without a cursor: from the end, as the bus itself says where that is.
      const at = decodeCursor(from ?? (await bus.read({ from: 'latest', limit: 1 })).next)
      check(!!at && at.length === 1, `from ${JSON.stringify(from)} is not a cursor of this shard`)
      s.next = s.acked = at![0]!
      const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket]
      ctx.acceptWebSocket(server)
      server.serializeAttachment(s)
      void pump(server)
      return new Response(null, { status: 101, webSocket: client })
    },
    message(ws: WebSocket, data: string | ArrayBuffer) {
      let ack: number[] | undefined
      try {
        ack = decodeCursor((JSON.parse(String(data)) as { ack?: unknown }).ack)
      } catch {
        /* not an ack */
      }
      const s = ws.deserializeAttachment() as SocketState | null
      if (!ack || ack.length !== 1 || !s) return
      s.acked = Math.min(Math.max(s.acked, ack[0]!), s.next)
      // Everything it was sent is acknowledged: what it skipped since is not its to acknowledge.
      if (s.acked >= (s.sent ?? s.acked)) s.acked = s.next
      ws.serializeAttachment(s)
      void pump(ws)
    },
    close(ws: WebSocket, code: number) {
      running.delete(ws)
      try {
        ws.close(code === 1005 ? 1000 : code)
      } catch {
        /* already closed */
      }
    },
  }
}
