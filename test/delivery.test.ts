import { describe, expect, it } from 'vitest'
import { createBus } from '../src/bus.js'
import { NonRetriableError, RetryAfterError } from '../src/errors.js'
import type { BusEvent } from '../src/event.js'
import { memoryStore } from '../src/store/memory.js'
import { manualClock } from '../src/testing.js'
import { countingStore } from './helpers.js'

const noJitter = { backoff: { jitter: false, initial: 1000, factor: 2, max: 60_000 } }
/** A promise and its resolvers, for handlers the test finishes by hand. */
const gate = () => {
  let open!: () => void
  let fail!: (e: unknown) => void
  const p = new Promise<void>((res, rej) => {
    open = res
    fail = rej
  })
  return { p, open, fail }
}

describe('durable subscriptions', () => {
  it('deliver every event published after subscribe resolves, once, in order', async () => {
    const bus = createBus({ clock: manualClock(0) })
    await bus.publish('t.a', 'before')
    const seen: unknown[] = []
    await bus.subscribe('s', 't.*', (e) => {
      seen.push(e.data)
    })
    for (let i = 0; i < 50; i++) void bus.publish(i % 2 ? 't.x' : 'other', i)
    await bus.idle()
    expect(seen).toEqual(Array.from({ length: 25 }, (_, i) => 2 * i + 1))
  })

  it("from 'earliest', { seq } and { time } apply to a new name only", async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    for (let i = 1; i <= 5; i++) {
      await bus.publish('t', i)
      await clock.advance(1000)
    }
    const got: Record<string, unknown[]> = { a: [], b: [], c: [] }
    await bus.subscribe(
      'a',
      't',
      (e) => {
        got.a!.push(e.data)
      },
      { from: 'earliest' },
    )
    await bus.subscribe(
      'b',
      't',
      (e) => {
        got.b!.push(e.data)
      },
      { from: { seq: 4 } },
    )
    await bus.subscribe(
      'c',
      't',
      (e) => {
        got.c!.push(e.data)
      },
      { from: { time: 2000 } },
    )
    await bus.idle()
    expect(got).toEqual({ a: [1, 2, 3, 4, 5], b: [4, 5], c: [3, 4, 5] })
  })

  it('resume on a new bus over the same store, including events published while none was attached', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    const seenA: unknown[] = []
    const sub = await a.subscribe('mailer', 'user.*', (e) => {
      seenA.push(e.data)
    })
    await a.publish('user.created', 1)
    await a.idle()
    await sub.close()
    await a.publish('user.created', 2)
    await a.publish('user.created', 3)
    await a.close()
    const b = createBus({ store, clock })
    const seenB: unknown[] = []
    await b.subscribe(
      'mailer',
      'user.*',
      (e) => {
        seenB.push(e.data)
      },
      { from: 'latest' },
    )
    await b.idle()
    expect(seenA).toEqual([1])
    expect(seenB).toEqual([2, 3])
  })

  it('a bus closed while a handler runs: the reopened bus redelivers that event once and never an acknowledged one', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    const seen: string[] = []
    const hang = gate()
    await a.subscribe(
      'work',
      'job',
      async (e, ctx) => {
        seen.push(`a:${e.data}`)
        if (e.data === 2)
          await new Promise((_, reject) =>
            ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason)),
          )
        await hang.p.catch(() => {})
      },
      { concurrency: 1 },
    )
    hang.open()
    await a.publish('job', 1)
    await a.publish('job', 2)
    await clock.advance(0)
    expect(seen).toEqual(['a:1', 'a:2'])
    await a.close() // aborts the running handler of job 2; its ack never lands
    await expect(a.publish('job', 3)).rejects.toMatchObject({ code: 'CLOSED' })
    const b = createBus({ store, clock })
    await b.subscribe('work', 'job', (e) => {
      seen.push(`b:${e.data}`)
    })
    await b.publish('job', 4)
    await b.idle()
    expect(seen).toEqual(['a:1', 'a:2', 'b:2', 'b:4'])
  })

  it('two buses on one store never run the same subscription at once; closing one hands over at once', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    const b = createBus({ store, clock })
    let running = 0
    let most = 0
    const who: string[] = []
    const handler = (name: string) => async (e: BusEvent) => {
      running++
      most = Math.max(most, running)
      who.push(`${name}:${e.data}`)
      await Promise.resolve()
      running--
    }
    const subA = await a.subscribe('shared', 'job', handler('a'), { concurrency: 4 })
    await b.subscribe('shared', 'job', handler('b'), { concurrency: 4 })
    for (let i = 0; i < 20; i++) void a.publish('job', i)
    await a.idle()
    await b.idle()
    expect(who.every((w) => w.startsWith('a:'))).toBe(true)
    expect(who).toHaveLength(20)
    await subA.close()
    await clock.advance(0)
    for (let i = 20; i < 25; i++) await b.publish('job', i)
    await b.idle()
    expect(who.slice(20)).toEqual(['b:20', 'b:21', 'b:22', 'b:23', 'b:24'])
    expect(new Set(who.map((w) => w.slice(2))).size).toBe(25)
    expect(most).toBeLessThanOrEqual(4)
  })

  it('a lapsed lease is taken over, and the old holder stops without acking what it no longer owns', async () => {
    const store = memoryStore()
    const frozen = manualClock(0) // the crashed bus's time stands still: it never renews
    const clock = manualClock(0)
    const a = createBus({ store, clock: frozen })
    const b = createBus({ store, clock })
    const seen: string[] = []
    const hang = gate()
    await a.subscribe('s', 'job', async (e) => {
      seen.push(`a:${e.data}`)
      await hang.p
    })
    await b.subscribe('s', 'job', (e) => {
      seen.push(`b:${e.data}`)
    })
    await b.publish('job', 1)
    await frozen.advance(0)
    expect(seen).toEqual(['a:1'])
    await clock.advance(31_000) // past the 30 s lease
    await b.idle()
    expect(seen).toEqual(['a:1', 'b:1'])
    hang.open() // a's late success must not count
    await frozen.advance(0)
    await b.publish('job', 2)
    await b.idle()
    expect(seen).toEqual(['a:1', 'b:1', 'b:2'])
  })
})

describe('ordering keys and concurrency', () => {
  it('one key at a time in seq order; a failing key holds back only itself and frees its slot', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const log: string[] = []
    let failA = true
    await bus.subscribe(
      's',
      'o',
      (e) => {
        log.push(`${e.key}${e.data}`)
        if (e.key === 'a' && e.data === 1 && failA) throw new Error('a1 fails')
      },
      { concurrency: 1, retry: noJitter },
    )
    await bus.publishMany([
      { type: 'o', data: 1, key: 'a' },
      { type: 'o', data: 2, key: 'a' },
      { type: 'o', data: 1, key: 'b' },
      { type: 'o', data: 2, key: 'b' },
      { type: 'o', data: 3, key: 'b' },
    ])
    await bus.idle()
    expect(log).toEqual(['a1', 'b1', 'b2', 'b3'])
    failA = false
    await clock.advance(1000)
    expect(log).toEqual(['a1', 'b1', 'b2', 'b3', 'a1', 'a2'])
  })

  it('concurrency bounds all handlers in flight, keyed or not', async () => {
    const bus = createBus({ clock: manualClock(0) })
    let running = 0
    let most = 0
    const gates = Array.from({ length: 10 }, gate)
    await bus.subscribe(
      's',
      't',
      async (e) => {
        running++
        most = Math.max(most, running)
        await gates[e.data as number]!.p
        running--
      },
      { concurrency: 3 },
    )
    await bus.publishMany(
      Array.from({ length: 10 }, (_, i) => ({
        type: 't',
        data: i,
        ...(i % 2 ? { key: `k${i}` } : {}),
      })),
    )
    await new Promise((r) => setTimeout(r, 5))
    expect(running).toBe(3)
    gates.forEach((g) => g.open())
    await bus.idle()
    expect(most).toBe(3)
  })

  it('a dead-lettered event releases its key; redriven, it runs after the later events of its key', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const log: unknown[] = []
    let poison = true
    await bus.subscribe('s', 'o', (e) => {
      if (e.data === 1 && poison) throw new NonRetriableError('bad')
      log.push(e.data)
    })
    await bus.publishMany([1, 2, 3].map((n) => ({ type: 'o', data: n, key: 'k' })))
    await bus.idle()
    expect(log).toEqual([2, 3])
    const [dead] = await bus.deadLetters.list({ subscription: 's' })
    expect(dead).toMatchObject({
      id: 's/1',
      subscription: 's',
      attempts: 1,
      error: { name: 'NonRetriableError', message: 'bad' },
      event: { data: 1, key: 'k' },
    })
    poison = false
    await bus.publish('o', 4, { key: 'k' })
    await bus.idle()
    expect(await bus.deadLetters.redrive([dead!.id])).toBe(1)
    await bus.idle()
    expect(log).toEqual([2, 3, 4, 1])
    expect(await bus.deadLetters.list()).toEqual([])
  })
})

describe('retries, timeouts and dead letters', () => {
  it('retries on the backoff schedule with ctx.attempt counting every try, then dead-letters', async () => {
    const clock = manualClock(0)
    const errors: unknown[] = []
    const bus = createBus({ clock, onError: (e, ctx) => errors.push([e, ctx.subscription]) })
    const tries: [number, number][] = []
    await bus.subscribe(
      's',
      't',
      (_, ctx) => {
        tries.push([ctx.attempt, clock.now()])
        throw new Error(`try ${ctx.attempt}`)
      },
      { retry: { attempts: 4, ...noJitter } },
    )
    await bus.publish('t', 'x')
    await clock.advance(60_000)
    expect(tries).toEqual([
      [1, 0],
      [2, 1000],
      [3, 3000],
      [4, 7000],
    ])
    const dead = await bus.deadLetters.list()
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({
      attempts: 4,
      error: { name: 'Error', message: 'try 4' },
      failedAt: 7000,
    })
    expect(errors).toEqual([[{ name: 'Error', message: 'try 4' }, 's']])
  })

  it('NonRetriableError goes straight to dead letters; RetryAfterError sets the next try', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const tries: number[] = []
    await bus.subscribe(
      's',
      't',
      (e, ctx) => {
        tries.push(clock.now())
        if (e.data === 'never') throw new NonRetriableError('no')
        if (ctx.attempt === 1) throw new RetryAfterError(42_000)
      },
      { retry: noJitter },
    )
    await bus.publish('t', 'never')
    await bus.publish('t', 'later')
    await clock.advance(100_000)
    expect(tries).toEqual([0, 0, 42_000])
    expect((await bus.deadLetters.list()).map((d) => d.event.data)).toEqual(['never'])
  })

  it('a handler that never settles times out: its signal aborts, its slot frees, its late result is ignored', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock, onError: () => {} })
    const never = gate()
    const signals: AbortSignal[] = []
    const seen: unknown[] = []
    await bus.subscribe(
      's',
      't',
      async (e, ctx) => {
        seen.push(`${e.data}#${ctx.attempt}`)
        signals.push(ctx.signal)
        if (e.data === 'stuck' && ctx.attempt === 1) await never.p
      },
      { timeout: 5000, retry: noJitter },
    )
    await bus.publish('t', 'stuck')
    await bus.publish('t', 'next')
    await clock.advance(4999)
    expect(seen).toEqual(['stuck#1'])
    await clock.advance(1)
    expect(signals[0]!.aborted).toBe(true)
    expect((signals[0]!.reason as { code: string }).code).toBe('TIMEOUT')
    expect(seen).toEqual(['stuck#1', 'next#1'])
    await clock.advance(1000)
    expect(seen).toEqual(['stuck#1', 'next#1', 'stuck#2'])
    never.open() // the abandoned attempt settles late: nothing happens
    await clock.advance(60_000)
    expect(seen).toEqual(['stuck#1', 'next#1', 'stuck#2'])
    expect(await bus.stats()).toMatchObject([
      { name: 's', inFlight: 0, retrying: 0, deadLetters: 0, lag: 0 },
    ])
  })

  it('retry state survives a restart', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock, onError: () => {} })
    const tries: number[] = []
    const sub = await a.subscribe(
      's',
      't',
      (_, ctx) => {
        tries.push(ctx.attempt)
        throw new Error('x')
      },
      { retry: { attempts: 3, ...noJitter } },
    )
    await a.publish('t', 1)
    await clock.advance(1000)
    expect(tries).toEqual([1, 2])
    await sub.close()
    await a.close()
    const b = createBus({ store, clock, onError: () => {} })
    await b.subscribe(
      's',
      't',
      (_, ctx) => {
        tries.push(ctx.attempt)
        throw new Error('x')
      },
      { retry: { attempts: 3, ...noJitter } },
    )
    await clock.advance(10_000)
    expect(tries).toEqual([1, 2, 3])
    expect(await b.deadLetters.list()).toHaveLength(1)
  })

  it('discard drops dead letters and resolves how many', async () => {
    const bus = createBus({ clock: manualClock(0), onError: () => {} })
    await bus.subscribe('s', 't', () => {
      throw new NonRetriableError('x')
    })
    await bus.publishMany([
      { type: 't', data: 1 },
      { type: 't', data: 2 },
    ])
    await bus.idle()
    const dead = await bus.deadLetters.list()
    expect(await bus.deadLetters.discard([dead[0]!.id])).toBe(1)
    expect(await bus.deadLetters.discard()).toBe(1)
    expect(await bus.deadLetters.list()).toEqual([])
  })
})

describe('the consumer ledger', () => {
  it('an event appended again under a new seq is not handled twice, also after a restart', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    // Publish dedup remembers 3 ids; the subscription's ledger counts only what it handled.
    const a = createBus({ store, clock, dedupe: { max: 3 } })
    const seen: string[] = []
    const sub = await a.subscribe('billing', 'invoice.*', (e) => {
      seen.push(`${e.id}@${e.seq}`)
    })
    await a.publish('invoice.sent', 1, { id: 'inv-1' })
    for (let i = 0; i < 5; i++) await a.publish('noise', i)
    await a.idle()
    const again = await a.publish('invoice.sent', 1, { id: 'inv-1' })
    expect(again.duplicate).toBe(false) // the publish dedup forgot it ...
    await a.idle()
    expect(seen).toEqual(['inv-1@1']) // ... the ledger did not
    await sub.close()
    await a.close()
    const b = createBus({ store, clock, dedupe: { max: 3 } })
    await b.subscribe('billing', 'invoice.*', (e) => {
      seen.push(`${e.id}@${e.seq}`)
    })
    for (let i = 0; i < 5; i++) await b.publish('noise', i)
    expect((await b.publish('invoice.sent', 1, { id: 'inv-1' })).duplicate).toBe(false)
    await b.publish('invoice.sent', 2, { id: 'inv-2' })
    await b.idle()
    expect(seen).toEqual(['inv-1@1', 'inv-2@14'])
  })

  it('replay handles again what the ledger remembers', async () => {
    const bus = createBus({ clock: manualClock(0) })
    const seen: unknown[] = []
    await bus.subscribe('s', 't', (e) => {
      seen.push(e.data)
    })
    await bus.publish('t', 'a', { id: 'x' })
    await bus.idle()
    await bus.replay('s', { seq: 1 })
    await bus.idle()
    expect(seen).toEqual(['a', 'a'])
  })
})

describe('replay', () => {
  it('handles everything from the point on again, in order; earlier events count as handled', async () => {
    const clock = manualClock(0)
    const bus = createBus({ clock })
    const seen: unknown[] = []
    await bus.subscribe(
      's',
      't',
      (e) => {
        seen.push(e.data)
      },
      { from: 'earliest' },
    )
    for (let i = 1; i <= 5; i++) {
      await bus.publish('t', i)
      await clock.advance(1000)
    }
    await bus.idle()
    await bus.replay('s', { seq: 3 })
    await bus.idle()
    await bus.replay('s', { time: 4000 })
    await bus.idle()
    expect(seen).toEqual([1, 2, 3, 4, 5, 3, 4, 5, 5])
  })
})

describe('idle and close', () => {
  it('idle waits for running handlers; close aborts them', async () => {
    const bus = createBus({ clock: manualClock(0) })
    const g = gate()
    let done = false
    await bus.subscribe('s', 't', async () => {
      await g.p
      done = true
    })
    await bus.publish('t', 1)
    const idle = bus.idle()
    setTimeout(() => g.open(), 5)
    await idle
    expect(done).toBe(true)
    let aborted = false
    await bus.subscribe(
      's2',
      't',
      (_, ctx) =>
        new Promise((_, rej) =>
          ctx.signal.addEventListener('abort', () => {
            aborted = true
            rej(ctx.signal.reason)
          }),
        ),
    )
    await bus.publish('t', 2)
    await new Promise((r) => setTimeout(r, 5))
    await bus.close()
    expect(aborted).toBe(true)
    await expect(bus.publish('t', 3)).rejects.toMatchObject({ code: 'CLOSED' })
  })
})

describe('close leaves nothing running', () => {
  it('a bus that took a subscription over from another clears every timer it armed (issue 20.2)', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const a = createBus({ store, clock })
    const b = createBus({ store, clock })
    const first = await a.subscribe('w', 'job', () => {})
    await b.subscribe('w', 'job', () => {}) // waits out a's lease on a timer
    await first.close() // b takes over at once through watch, then renews on its own timer
    await clock.advance(0)
    expect((await b.subscriptions())[0]).toMatchObject({ attached: true })
    await a.close()
    await b.close()
    expect(clock.timers).toBe(0)
  })
})

describe('close leaves nothing keeping the process alive', () => {
  it('a Node process that took a subscription over exits on its own after close (issue 20.2)', async () => {
    const { build } = await import('esbuild')
    const { spawn } = await import('node:child_process')
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises')
    const { tmpdir } = await import('node:os')
    const { join, resolve } = await import('node:path')
    const dir = await mkdtemp(join(tmpdir(), 'tidings-close-'))
    try {
      const entry = join(dir, 'repro.ts')
      await writeFile(
        entry,
        `
        import { createBus } from ${JSON.stringify(resolve('src/bus.ts'))}
        import { memoryStore } from ${JSON.stringify(resolve('src/store/memory.ts'))}
        const store = memoryStore()
        const a = createBus({ store }), b = createBus({ store })
        const first = await a.subscribe('w', 'job', () => {})
        await b.subscribe('w', 'job', () => {})
        await first.close()
        await new Promise((r) => setTimeout(r, 20))
        await a.close(); await b.close()
        await new Promise((r) => setImmediate(r))
        const left = process.getActiveResourcesInfo().filter((k) => k === 'Timeout')
        console.log(JSON.stringify(left))
        // Fail fast rather than hang for a lease when something is left armed.
        if (left.length) process.exit(3)
      `,
      )
      await build({
        entryPoints: [entry],
        bundle: true,
        format: 'esm',
        platform: 'node',
        outfile: join(dir, 'repro.mjs'),
        logLevel: 'silent',
      })
      const child = spawn(process.execPath, [join(dir, 'repro.mjs')], {
        stdio: ['ignore', 'pipe', 'inherit'],
      })
      let out = ''
      child.stdout.on('data', (d) => {
        out += d
      })
      const code = await new Promise((r) => child.on('exit', r))
      expect(out.trim()).toBe('[]')
      expect(code).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 20_000)
})

describe('an attempt is a delivery: a runtime that dies mid-handler counts (issue 13.3)', () => {
  const LEASE = 30_000
  // Measured on the code before deliveries were counted; noting them must not add a commit.
  const HAPPY_COMMITS = 61
  /** Never settles: the runtime "dies" with it, since its bus is abandoned, never closed. */
  const forever = () => new Promise<never>(() => {})

  it('an event whose handler kills its runtime every time is dead-lettered after retry.attempts deliveries', async () => {
    const store = memoryStore()
    const attempts: number[] = []
    const errors: unknown[] = []
    // Each bus has its own clock, frozen once the bus is abandoned: a dead runtime renews nothing.
    let t = 0
    const runtime = async () => {
      const clock = manualClock(t)
      const bus = createBus({
        store,
        clock,
        onError: (e) => {
          errors.push(e)
        },
      })
      await bus.subscribe(
        's',
        'job',
        (_, ctx) => {
          attempts.push(ctx.attempt)
          return forever()
        },
        { retry: { attempts: 3 } },
      )
      return { bus, clock }
    }
    const first = await runtime()
    await first.bus.publish('job', 'poison', { id: 'p' })
    await first.bus.publish('job', 'fine', { id: 'f' })
    // It runs long enough for a lease renewal to note it, then its runtime dies.
    await first.clock.advance(LEASE / 3 + 1)
    expect(attempts).toEqual([1])
    for (let round = 2; round <= 4; round++) {
      t += 2 * LEASE // the last lease has lapsed
      const next = await runtime()
      await next.clock.advance(0)
    }
    expect(attempts).toEqual([1, 2, 3, 1])
    const last = await runtime()
    const dead = await last.bus.deadLetters.list()
    expect(dead).toHaveLength(1)
    expect(dead[0]).toMatchObject({
      id: 's/1',
      attempts: 3,
      event: { id: 'p' },
      error: {
        name: 'DeliveryError',
        message: 'the runtime running the handler died (attempt 3 of 3)',
      },
    })
    expect(errors).toEqual([expect.objectContaining({ name: 'DeliveryError' })])
  })

  it('one that kills its runtime before any commit notes it is still dead-lettered after retry.attempts deliveries', async () => {
    const store = memoryStore()
    const attempts: number[] = []
    let t = 0
    for (let round = 1; round <= 4; round++) {
      const clock = manualClock(t)
      const bus = createBus({ store, clock, onError: () => {} })
      await bus.subscribe(
        's',
        'job',
        (e, ctx) => {
          attempts.push(ctx.attempt)
          return e.data === 'poison' ? forever() : undefined
        },
        { retry: { attempts: 3 } },
      )
      if (round === 1) {
        await bus.publish('job', 'poison')
        await bus.publish('job', 'fine')
      }
      await clock.advance(0) // then the runtime dies at once: no renewal, no ack
      t += 2 * LEASE
    }
    // The first death noted nothing; the bus that took over ran carefully and blames it on the
    // one event that killed it again. Three deliveries in all, then the dead letters.
    expect(attempts).toEqual([1, 1, 3, 1])
    const bus = createBus({ store, clock: manualClock(t) })
    expect(
      (await bus.deadLetters.list()).map((d) => [d.event.data, d.attempts, d.error.name]),
    ).toEqual([['poison', 3, 'DeliveryError']])
  })

  it('a clean close() counts nothing: the aborted attempt runs again with the same ctx.attempt', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const attempts: number[] = []
    const a = createBus({ store, clock })
    await a.subscribe('s', 'job', (_, ctx) => {
      attempts.push(ctx.attempt)
      return forever()
    })
    await a.publish('job', 1)
    await clock.advance(LEASE / 3 + 1)
    await a.close()
    const b = createBus({ store, clock })
    await b.subscribe('s', 'job', (_, ctx) => {
      attempts.push(ctx.attempt)
    })
    await b.idle()
    expect(attempts).toEqual([1, 1])
  })

  it('the happy path makes no more commits than before: the note rides on acks and renewals', async () => {
    // Counts the commits of the subscriptions (not the log's), so publish batching cannot move it.
    const inner = memoryStore()
    let runnerCommits = 0
    const { store, stats } = countingStore({
      ...inner,
      commit: (c) => {
        if (c.mutations.some((m) => 'key' in m && /^[sal]\//.test(m.key))) runnerCommits++
        return inner.commit(c)
      },
    })
    const clock = manualClock(0)
    const bus = createBus({ store, clock })
    await bus.subscribe('sync', 'job', () => {}, { concurrency: 4 })
    await bus.subscribe('async', 'job', async () => {
      await Promise.resolve()
    })
    const [before, all] = [runnerCommits, stats.commits]
    for (let i = 0; i < 20; i++) void bus.publish('job', i, { key: `k${i % 3}` })
    await bus.idle()
    for (let i = 0; i < 5; i++) {
      await bus.publish('job', i)
      await bus.idle()
      await clock.advance(LEASE)
    }
    expect(runnerCommits - before).toBe(HAPPY_COMMITS)
    expect(stats.commits - all).toBeGreaterThan(runnerCommits - before)
  })
})

describe('close({ timeout }): a grace period for running handlers (issue 20.1)', () => {
  /** A handler that needs 200 ms of the clock and honours its signal. */
  const needs200 =
    (clock: ReturnType<typeof manualClock>, log: string[]) =>
    (e: BusEvent, ctx: { attempt: number; signal: AbortSignal }) =>
      new Promise<void>((resolve, reject) => {
        log.push(`start ${e.data} #${ctx.attempt}`)
        const t = clock.setTimer(clock.now() + 200, () => {
          log.push(`done ${e.data}`)
          resolve()
        })
        ctx.signal.addEventListener('abort', () => {
          clock.clearTimer(t)
          log.push(`aborted ${e.data}`)
          reject(ctx.signal.reason)
        })
      })

  const scenario = async (timeout: number) => {
    const store = memoryStore()
    const clock = manualClock(0)
    const log: string[] = []
    const bus = createBus({ store, clock })
    await bus.subscribe('s', 'job', needs200(clock, log))
    await bus.publish('job', 1)
    await bus.publish('job', 2) // waits behind job 1 (concurrency 1): must not start once closing
    await clock.advance(0)
    let closed = false
    const closing = bus.close({ timeout }).then(() => {
      closed = true
    })
    await clock.advance(40)
    expect(closed).toBe(false)
    await clock.advance(1000)
    await closing
    // The outcome is in the store: a new bus shows what is left, and what it gets next.
    const next = createBus({ store, clock })
    const stats = (await next.stats())[0]
    const again: string[] = []
    await next.subscribe('s', 'job', (e, ctx) => {
      again.push(`${e.data} #${ctx.attempt}`)
    })
    await next.idle()
    return { log, stats, again }
  }

  it('a handler that needs 200 ms finishes under close({ timeout: 1000 }); its ack is committed, nothing new starts', async () => {
    const { log, stats, again } = await scenario(1000)
    expect(log).toEqual(['start 1 #1', 'done 1'])
    expect(stats).toMatchObject({ lag: 1, retrying: 0 })
    expect(again).toEqual(['2 #1'])
  })

  it('under close({ timeout: 50 }) it is aborted at the deadline, and its failure is committed', async () => {
    const { log, stats, again } = await scenario(50)
    expect(log).toEqual(['start 1 #1', 'aborted 1'])
    expect(stats).toMatchObject({ lag: 2, retrying: 1 })
    expect(again).toEqual(['1 #2', '2 #1'])
  })

  it('without a timeout, close() aborts at once and counts nothing (as before)', async () => {
    const store = memoryStore()
    const clock = manualClock(0)
    const log: string[] = []
    const bus = createBus({ store, clock })
    await bus.subscribe('s', 'job', needs200(clock, log))
    await bus.publish('job', 1)
    await clock.advance(0)
    await bus.close()
    expect(log).toEqual(['start 1 #1', 'aborted 1'])
    const next = createBus({ store, clock })
    const again: string[] = []
    await next.subscribe('s', 'job', (e, ctx) => {
      again.push(`${e.data} #${ctx.attempt}`)
    })
    await next.idle()
    expect(again).toEqual(['1 #1'])
  })

  it('refuses a timeout that is not a number of ms >= 0, before anything stops', async () => {
    const bus = createBus({ clock: manualClock(0) })
    await bus.subscribe('s', 'job', () => {})
    await expect(bus.close({ timeout: -1 })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' })
    await expect(bus.publish('job', 1)).resolves.toMatchObject({ seq: 1 })
    await bus.close()
  })
})
