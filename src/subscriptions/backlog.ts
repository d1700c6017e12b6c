import type { BusEvent } from '../event.js'
import { compileFilter, type EventPredicate } from '../filter/filter.js'
import type { Log } from '../log/log.js'
import type { Store } from '../store/store.js'
import { compilePattern } from '../topic/pattern.js'
import { keys, type SubRecord } from './record.js'

const PAGE = 500

interface Backlog {
  cursor: number
  shape: string
  test: (event: BusEvent) => boolean
  through: number
  count: number
  oldest?: number
}

/** The lag of subscriptions not running here (see {@link createBacklogs}). */
export interface Backlogs {
  /** Matching events from the cursor on, less those handled or dead-lettered out of order above it. */
  detachedLag(record: SubRecord): Promise<{ lag: number; oldest: number | undefined }>
  /** Counts appended events into the backlogs already read. */
  notify(events: readonly BusEvent[]): void
}

/**
 * The lag of subscriptions not running here, kept as events are appended: the events from the
 * cursor on that the pattern and declarative filter match (a function filter lives only where
 * the subscription runs). The first look reads the backlog once; later ones only what is new.
 *
 * @example
 * const { lag } = await createBacklogs(store, log).detachedLag(record)
 */
export const createBacklogs = (store: Store, log: Log): Backlogs => {
  const backlogs = new Map<string, Backlog>()
  const tally = (backlog: Backlog, events: readonly BusEvent[]) => {
    for (const event of events) {
      if (event.seq !== backlog.through) continue
      backlog.through++
      if (backlog.test(event)) {
        backlog.count++
        backlog.oldest ??= event.time
      }
    }
  }
  const backlogOf = async (record: SubRecord): Promise<Backlog> => {
    const shape = JSON.stringify([record.pattern, record.filter])
    let backlog = backlogs.get(record.name)
    if (!backlog || backlog.cursor !== record.cursor || backlog.shape !== shape) {
      const topic = compilePattern(record.pattern)
      let test: EventPredicate | undefined
      try {
        test = record.filter && compileFilter(record.filter)
      } catch {
        /* written by another version: count by pattern */
      }
      backlog = {
        cursor: record.cursor,
        shape,
        test: (event) => topic(event.type) && (!test || test(event)),
        through: record.cursor,
        count: 0,
      }
      backlogs.set(record.name, backlog)
    }
    await log.idle()
    while (backlog.through <= log.head) {
      const page = await log.read(backlog.through, PAGE)
      const at = backlog.through
      tally(backlog, page)
      // Retention never drops what a cursor pins; a gap means nothing there to count.
      if (backlog.through === at) backlog.through = page[0]?.seq ?? log.head + 1
      if (page.length < PAGE) break
    }
    return backlog
  }
  return {
    async detachedLag(record) {
      const [backlog, acks, dead] = await Promise.all([
        backlogOf(record),
        store.list({ prefix: `a/${record.name}/` }),
        store.list({ prefix: `x/${record.name}/`, start: keys.dead(record.name, record.cursor) }),
      ])
      return { lag: Math.max(0, backlog.count - acks.length - dead.length), oldest: backlog.oldest }
    },
    notify(events) {
      for (const backlog of backlogs.values()) tally(backlog, events)
    },
  }
}
