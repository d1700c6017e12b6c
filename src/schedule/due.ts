import type { Clock } from '../clock/clock.js'
import type { Log } from '../log/log.js'
import type { Store } from '../store/store.js'
import type { Heap } from './heap.js'
import { stillUnhandled } from './overlap.js'
import type { KnownSchedule, Tick } from './spec.js'
import { tickId } from './tick-id.js'

/** What firing the due ticks needs from the scheduler. */
export interface DueHost {
  store: Store
  clock: Clock
  log: Log
  /** [tickMs, name], soonest first; an entry whose tick no longer matches its record is stale. */
  heap: Heap<string>
  records: Map<string, KnownSchedule>
  /** Pushes a schedule's next tick after `after` onto the heap. */
  plan(name: string, after: number): void
  /** Fires ticks in one commit (see `fireTicks`). */
  fire(ticks: Tick[]): Promise<void>
  /** Reads the schedules again a second later, by their catch-up policy. */
  retry(): void
  /** Arms the clock timer for the soonest tick. */
  arm(): void
}

/**
 * Fires the ticks due now, skipping those whose previous event is still unhandled (overlap:
 * 'skip'), plans each schedule's next tick, and re-arms the timer.
 *
 * @example
 * clock.setTimer(at, () => void log.track(fireDue({ store, clock, log, heap, records, plan, fire, retry, arm })))
 */
export const fireDue = async (host: DueHost): Promise<void> => {
  const { store, clock, log, heap, records, plan } = host
  const now = clock.now()
  const due: Tick[] = []
  while ((heap.peek()?.[0] ?? Infinity) <= now) {
    const [at, name] = heap.pop()!
    const r = records.get(name)
    if (!r || r.next !== at) continue
    let silent = false
    if (r.rec.spec.overlap === 'skip' && r.rec.lastPublishedAt !== undefined) {
      const seq = log.seqOf(tickId(name, r.rec.lastPublishedAt))
      silent = seq !== undefined && (await stillUnhandled(store, log, clock, seq))
    }
    due.push({ name, at, silent })
    plan(name, Math.max(at, now))
  }
  // A tick that fails to commit (a full store, say) is tried again a second later by the
  // schedule's catch-up policy (its lastFiredAt did not move), and the timer goes on.
  try {
    await host.fire(due)
  } catch (e) {
    host.retry()
    throw e
  } finally {
    host.arm()
  }
}
