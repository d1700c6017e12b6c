/**
 * The run loop of a log (the state overview is at the top of log.ts): the queue of pending appends
 * (read from `queueHead`, never shifted), whether the loop is going, and the highest seq another
 * writer was reported to append with the re-read timer for it.
 */
import type { Pending } from './pending.js'
import { takeBatch } from './batch.js'
import { commitBatch } from './commit.js'
import type { LogState } from './state.js'

/** A log's run loop, as `createLog` uses it. */
export interface RunLoop {
  /** Queues a pending (its resolve and reject set) and starts the loop. */
  push(pending: Pending): void
  /** Another writer committed events under these keys: read them. */
  foreignCommitted(keys: readonly string[]): void
  /** Resolves once every append queued so far has settled. */
  idle(): Promise<void>
  /** Forgets the reported seq: a re-read timer still armed finds nothing to read. */
  stop(): void
}

/**
 * The loop that commits the queue in call order, one batch per commit, and reads what another
 * writer committed. `own` holds this bus's id prefix and last counter; `ready` is the log's load.
 *
 * @example
 * const loop = createRunLoop(state, own, ready)
 * loop.push(createPending(drafts, true, undefined, undefined, resolve, reject))
 */
export const createRunLoop = (
  state: LogState,
  own: { prefix: string; counter: number },
  ready: Promise<void>,
): RunLoop => {
  const { clock } = state.options
  // A FIFO with a moving head: Array#shift is O(n), and 100,000 unawaited publishes are normal.
  let queue: Pending[] = []
  let queueHead = 0
  const queued = () => queue.length - queueHead
  const idleWaiters: (() => void)[] = []
  let running = false
  // The highest seq another writer's commit was reported to append: kept until the head reaches
  // it (no wake-up is dropped). `rereads`: reads since the last report that still found the head
  // behind; `rereadTimer`: the timer of the next one.
  let foreignSeq = 0
  let rereads = 0
  let rereadTimer: unknown

  const run = async () => {
    try {
      await ready
      while (queued() || (foreignSeq > state.head.seq && !rereadTimer)) {
        // A read can miss the commit it was woken for (it was in flight, or the store's reads lag
        // its notifications): read again at once, then after pauses 9 ms longer each time.
        if (foreignSeq > state.head.seq && !rereadTimer) {
          await (await state.segments()).refresh(state)
          if (foreignSeq > state.head.seq && rereads++)
            rereadTimer = clock.setTimer(clock.now() + rereads * 9, () => {
              rereadTimer = 0
              kick()
            })
        }
        const p = queue[queueHead]
        if (!p) continue
        if (p.failed) {
          queueHead++
          continue
        }
        if (!p.drafts) {
          await p.wait
          continue
        }
        const [batch, nextHead] = takeBatch(queue, queueHead, own)
        queueHead = nextHead
        if (queueHead > 1024 && queueHead * 2 > queue.length) {
          queue = queue.slice(queueHead)
          queueHead = 0
        }
        await commitBatch(state, batch).catch((e) => batch.forEach((p) => p.reject(e)))
      }
    } catch (e) {
      for (const p of queue.splice(queueHead)) p.reject(e)
    } finally {
      running = false
      if (queued()) kick()
      else for (const w of idleWaiters.splice(0)) w()
    }
  }

  function kick() {
    if (running) return
    running = true
    queueMicrotask(run)
  }

  return {
    push(pending: Pending) {
      queue.push(pending)
      kick()
    },
    foreignCommitted(keys: readonly string[]) {
      for (const k of keys) foreignSeq = Math.max(foreignSeq, +k.slice(2)) // 2: EVENTS.length
      // Read at once (a pending rereadTimer's timer stays armed: firing late, it only kicks the log).
      rereadTimer = rereads = 0
      kick()
    },
    idle(): Promise<void> {
      if (!running && !queued()) return ready
      return new Promise((r) => idleWaiters.push(r))
    },
    stop() {
      foreignSeq = 0
    },
  }
}
