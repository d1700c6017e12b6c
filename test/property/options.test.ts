// Property tests of every entry point's arguments (issue 12.4): publish, publishMany, on, cancel,
// read (cursors included), waitFor, subscribe, replay, deadLetters, schedule, runSchedule,
// unschedule, deleteSubscription, each given arbitrary values (fc.anything(), Symbols, BigInts,
// Proxies whose traps throw) for the whole options and for each option. Oracle: settle() (success
// or a documented code, never a TypeError/RangeError), and nothing written on refusal.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Bus } from '../../src/bus.js'
import { encodeCursor } from '../../src/event.js'
import { TidingsError } from '../../src/errors.js'
import { Made, value, weird } from './_core-inputs.js'
import { onFreshBus, T0 } from './_core-bus.js'
import { runs, SCALE } from './_oracle.js'

const TIME = 60_000 * SCALE
let total = 0

/** An options object whose known keys take arbitrary values (or sensible ones), or any value at all. */
const optionsOf = (keys: Record<string, fc.Arbitrary<unknown>>) =>
  fc.oneof(
    weird,
    fc.record(
      Object.fromEntries(Object.entries(keys).map(([k, good]) => [k, fc.oneof(good, weird)])),
      { requiredKeys: [] },
    ),
  )
const text = fc.oneof(fc.string({ maxLength: 20 }), fc.constant('x'.repeat(600)))
const ms = fc.oneof(fc.nat(100_000), fc.double(), fc.constantFrom(1e21, 1e-5))
const name = fc.oneof(fc.stringMatching(/^[\w-]{1,12}$/), text, weird)
const pattern = fc.oneof(
  fc.constantFrom('**', 'order.*', 'order.placed', 'constructor', '__proto__.**'),
  text,
)
const from = fc.oneof(
  fc.constantFrom('latest', 'earliest', 'x', 5, null),
  fc.record({ seq: fc.oneof(fc.nat(), weird) }),
  fc.record({ time: fc.oneof(fc.integer(), weird) }),
  weird,
)

/** Runs one generated call on a fresh bus holding one event and one subscription. */
const check = async (
  call: (bus: Bus) => unknown,
  allowed?: readonly string[],
  setup?: (bus: Bus) => Promise<unknown>,
) => {
  total++
  const r = await onFreshBus(({ bus }) => call(bus), {}, setup && (({ bus }) => setup(bus)))
  if (!r.outcome.ok && allowed) expect(allowed).toContain(r.outcome.error.code)
  await r.done()
  return r.outcome
}
const arg = (v: unknown) => value(v)
// Options built by fc.record hold Made values: make them (a Made is never looked into: it may be a Proxy).
const args = (o: unknown): unknown => {
  if (
    o instanceof Made ||
    !o ||
    typeof o !== 'object' ||
    Object.getPrototypeOf(o) !== Object.prototype
  )
    return value(o)
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, value(x)]))
}

describe('entry points with arbitrary arguments', () => {
  it(
    'publish and publishMany',
    async () => {
      const publishOptions = optionsOf({
        id: text,
        key: text,
        source: text,
        correlationId: text,
        causationId: text,
        traceparent: text,
        delay: ms,
        at: fc.oneof(ms, fc.date()),
      })
      await fc.assert(
        fc.asyncProperty(
          publishOptions,
          fc.oneof(publishOptions, fc.array(publishOptions, { maxLength: 3 })),
          async (o, many) => {
            const single = await check(
              (bus) => bus.publish('order.placed', { n: 1 }, args(o) as never),
              ['INVALID_OPTIONS'],
            )
            const batch = value(many)
            const entries = Array.isArray(batch)
              ? batch.map((x) => {
                  const a = args(x)
                  return !(x instanceof Made) && a && typeof a === 'object'
                    ? { type: 'order.placed', data: 1, ...a }
                    : a
                })
              : batch
            await check(
              (bus) => bus.publishMany(entries as never),
              ['INVALID_OPTIONS', 'INVALID_TOPIC'],
            )
            if (single.ok) expect((single.value as { id: string }).id).toEqual(expect.any(String))
          },
        ),
        runs(700),
      )
    },
    TIME,
  )

  it(
    'on, cancel and read (cursors)',
    async () => {
      const onOptions = optionsOf({
        signal: fc.constant(new AbortController().signal),
        filter: fc.constant(() => true),
      })
      const cursor = fc.oneof(
        fc.constantFrom('earliest', 'latest'),
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }).map(encodeCursor),
        fc.string(),
        fc.stringMatching(/^c[0-9a-z.]{0,14}$/),
        weird,
      )
      const readOptions = optionsOf({
        from: cursor,
        pattern,
        limit: fc.oneof(fc.integer({ min: -5, max: 20_000 }), weird),
        cursors: fc.boolean(),
      })
      await fc.assert(
        fc.asyncProperty(
          pattern,
          fc.oneof(
            fc.constant(() => {}),
            weird,
          ),
          onOptions,
          weird,
          readOptions,
          async (p, fn, o, id, ro) => {
            await check(
              (bus) => {
                const off = bus.on(p as never, arg(fn) as never, args(o) as never)
                off()
              },
              ['INVALID_OPTIONS', 'INVALID_PATTERN', 'INVALID_FILTER'],
            )
            await check((bus) => bus.cancel(arg(id) as never), ['INVALID_OPTIONS'])
            await check(
              (bus) => bus.read(args(ro) as never),
              ['INVALID_OPTIONS', 'INVALID_CURSOR', 'INVALID_PATTERN'],
              (bus) => bus.publish('order.placed', 1),
            )
          },
        ),
        runs(700),
      )
    },
    TIME,
  )

  it(
    'waitFor',
    async () => {
      const waitOptions = optionsOf({
        timeout: ms,
        since: ms,
        signal: fc.constant(undefined),
        filter: fc.oneof(
          fc.constant({ data: { n: [1] } }),
          fc.constant(() => true),
        ),
      })
      await fc.assert(
        fc.asyncProperty(pattern, waitOptions, async (p, o) => {
          await check(
            async (bus) => {
              // The event is there before the wait: a `since` finds it, a filter is run on it.
              const w = bus.waitFor(p as never, args(o) as never)
              w.catch(() => {})
              await bus.idle()
              // Still waiting (no match yet, or a timeout to come): close() ends it with CLOSED.
              await bus.close()
              return w.catch((e: unknown) => {
                if (e instanceof TidingsError && e.code === 'CLOSED') return 'closed'
                throw e
              })
            },
            ['INVALID_OPTIONS', 'INVALID_PATTERN', 'INVALID_FILTER', 'TIMEOUT'],
            (bus) => bus.publish('order.placed', { n: 1 }),
          )
        }),
        runs(500),
      )
    },
    TIME,
  )

  it(
    'subscribe, replay, deadLetters and deleteSubscription',
    async () => {
      const retry = fc.oneof(
        weird,
        fc.record(
          {
            attempts: fc.oneof(fc.nat(9), weird),
            backoff: fc.oneof(
              weird,
              fc.record(
                { initial: ms, max: ms, factor: ms, jitter: fc.boolean() },
                { requiredKeys: [] },
              ),
            ),
          },
          { requiredKeys: [] },
        ),
      )
      const subscribeOptions = optionsOf({
        from,
        filter: fc.constant({ type: ['order.placed'] }),
        concurrency: fc.oneof(fc.nat(5), weird),
        timeout: ms,
        retry,
      })
      const ids = fc.oneof(fc.constant(undefined), fc.array(fc.string(), { maxLength: 2 }), weird)
      await fc.assert(
        fc.asyncProperty(
          name,
          pattern,
          subscribeOptions,
          from,
          optionsOf({ subscription: name }),
          ids,
          async (n, p, o, point, lo, i) => {
            await check(
              async (bus) => {
                const s = await bus.subscribe(
                  arg(n) as never,
                  p as never,
                  () => {},
                  args(o) as never,
                )
                await s.close()
              },
              ['INVALID_OPTIONS', 'INVALID_PATTERN', 'INVALID_FILTER'],
            )
            await check(
              (bus) => bus.replay(arg(n) === 'x' ? 'sub' : (arg(n) as never), args(point) as never),
              ['INVALID_OPTIONS'],
              async (bus) => (await bus.subscribe('sub', '**', () => {})).close(),
            )
            await check((bus) => bus.deadLetters.list(args(lo) as never), ['INVALID_OPTIONS'])
            await check((bus) => bus.deadLetters.redrive(arg(i) as never), ['INVALID_OPTIONS'])
            await check((bus) => bus.deadLetters.discard(arg(i) as never), ['INVALID_OPTIONS'])
            await check((bus) => bus.deleteSubscription(arg(n) as never), ['INVALID_OPTIONS'])
          },
        ),
        runs(250),
      )
    },
    TIME,
  )

  it(
    'schedule, runSchedule and unschedule',
    async () => {
      const spec = optionsOf({
        type: fc.oneof(fc.constant('report.due'), text),
        data: fc.oneof(fc.constant({ n: 1n, at: new Date(0), s: new Set([1]) }), fc.jsonValue()),
        every: fc.oneof(fc.constantFrom(1, 1000, 60_000, 1e-5, 0.5, 2 ** 53, 1e21), ms),
        cron: fc.oneof(fc.constantFrom('0 2 * * *', '* * * * * *', '0 0 30 2 *', 'x'), fc.string()),
        at: fc.oneof(fc.constant(T0 + 60_000), fc.date(), ms),
        timezone: fc.oneof(fc.constantFrom('UTC', 'Europe/Paris', 'Nowhere/City'), fc.string()),
        catchUp: fc.constantFrom('none', 'latest', 'all', 'some'),
        overlap: fc.constantFrom('allow', 'skip', 'never'),
      })
      await fc.assert(
        fc.asyncProperty(name, spec, optionsOf({ id: text }), async (n, s, ro) => {
          const made = await check(
            async (bus) => {
              await bus.schedule(arg(n) as never, args(s) as never)
              // Re-registering the same spec (as apps do at every boot) changes nothing, whatever its data holds.
              await bus.schedule(arg(n) as never, args(s) as never)
              return bus.schedules()
            },
            ['INVALID_SCHEDULE', 'INVALID_PAYLOAD', 'PAYLOAD_TOO_LARGE'],
          )
          if (made.ok) expect(made.value).toHaveLength(1)
          await check(
            (bus) => bus.runSchedule(arg(n) === 'x' ? 's' : (arg(n) as never), args(ro) as never),
            ['INVALID_SCHEDULE', 'INVALID_OPTIONS'],
            (bus) => bus.schedule('s', { every: 60_000, type: 'report.due', data: 1 }),
          )
          await check((bus) => bus.unschedule(arg(n) as never), ['INVALID_SCHEDULE'])
        }),
        runs(400),
      )
      console.info(`options properties: ${total} calls with generated arguments`)
    },
    TIME,
  )
})

describe('issue 12.4 regressions: coded refusals, never a TypeError', () => {
  const boom = new Error('boom')
  const trap = () =>
    new Proxy(
      {},
      {
        get() {
          throw boom
        },
        ownKeys() {
          throw boom
        },
      },
    )
  it.each<[string, (bus: Bus) => unknown, string, ((bus: Bus) => Promise<unknown>)?]>([
    ['publishMany(null)', (b) => b.publishMany(null as never), 'INVALID_OPTIONS'],
    ['publishMany([null])', (b) => b.publishMany([null] as never), 'INVALID_OPTIONS'],
    [
      'publishMany(sparse 2^32-1)',
      (b) => {
        const a: never[] = []
        a.length = 2 ** 32 - 1
        return b.publishMany(a)
      },
      'INVALID_OPTIONS',
    ],
    [
      'runSchedule(name, null)',
      (b) => b.runSchedule('s', null as never),
      'INVALID_OPTIONS',
      (b) => b.schedule('s', { every: 1000, type: 't', data: 1 }),
    ],
    ['deadLetters.list(null)', (b) => b.deadLetters.list(null as never), 'INVALID_OPTIONS'],
    ['on(p, fn, null)', (b) => b.on('**', () => {}, null as never), 'INVALID_OPTIONS'],
    [
      "subscribe(…, { from: 'x' })",
      (b) => b.subscribe('s', '**', () => {}, { from: 'x' as never }),
      'INVALID_OPTIONS',
    ],
    [
      'subscribe(…, { from: 5 })',
      (b) => b.subscribe('s', '**', () => {}, { from: 5 as never }),
      'INVALID_OPTIONS',
    ],
    [
      'subscribe(…, { from: null })',
      (b) => b.subscribe('s', '**', () => {}, { from: null as never }),
      'INVALID_OPTIONS',
    ],
    [
      "replay(name, 'x')",
      (b) => b.replay('s', 'x' as never),
      'INVALID_OPTIONS',
      async (b) => (await b.subscribe('s', '**', () => {})).close(),
    ],
    [
      'publish key: a Symbol',
      (b) => b.publish('t', 1, { key: Symbol('k') as never }),
      'INVALID_OPTIONS',
    ],
    ['publish key: a BigInt', (b) => b.publish('t', 1, { key: 5n as never }), 'INVALID_OPTIONS'],
    [
      'publish delay: a BigInt',
      (b) => b.publish('t', 1, { delay: 5n as never }),
      'INVALID_OPTIONS',
    ],
    [
      'publish delay: a Symbol',
      (b) => b.publish('t', 1, { delay: Symbol('d') as never }),
      'INVALID_OPTIONS',
    ],
    [
      'publish options: a throwing Proxy',
      (b) => b.publish('t', 1, trap() as never),
      'INVALID_OPTIONS',
    ],
    ['read limit: a Symbol', (b) => b.read({ limit: Symbol('l') as never }), 'INVALID_OPTIONS'],
    ['read from: a BigInt', (b) => b.read({ from: 5n as never }), 'INVALID_CURSOR'],
    ['read(null)', (b) => b.read(null as never), 'INVALID_OPTIONS'],
    [
      'waitFor timeout: a Symbol',
      (b) => b.waitFor('**', { timeout: Symbol('t') as never }),
      'INVALID_OPTIONS',
    ],
    ['waitFor(p, null)', (b) => b.waitFor('**', null as never), 'INVALID_OPTIONS'],
    [
      'subscribe concurrency: a BigInt',
      (b) => b.subscribe('s', '**', () => {}, { concurrency: 2n as never }),
      'INVALID_OPTIONS',
    ],
    [
      'subscribe options: a throwing Proxy',
      (b) => b.subscribe('s', '**', () => {}, trap() as never),
      'INVALID_OPTIONS',
    ],
    ['deadLetters.redrive("x")', (b) => b.deadLetters.redrive('x' as never), 'INVALID_OPTIONS'],
    ['cancel(Symbol)', (b) => b.cancel(Symbol('x') as never), 'INVALID_OPTIONS'],
    [
      'schedule every 1e-5',
      (b) => b.schedule('s', { every: 1e-5, type: 't', data: 1 }),
      'INVALID_SCHEDULE',
    ],
    [
      'schedule every 1e21',
      (b) => b.schedule('s', { every: 1e21, type: 't', data: 1 }),
      'INVALID_SCHEDULE',
    ],
    [
      'schedule at after 9999',
      (b) => b.schedule('s', { at: 1e16, type: 't', data: 1 }),
      'INVALID_SCHEDULE',
    ],
    [
      'schedule timezone: a Symbol',
      (b) =>
        b.schedule('s', { cron: '* * * * *', timezone: Symbol('z') as never, type: 't', data: 1 }),
      'INVALID_SCHEDULE',
    ],
    [
      'schedule(Symbol name)',
      (b) => b.schedule(Symbol('n') as never, { every: 1000, type: 't', data: 1 }),
      'INVALID_SCHEDULE',
    ],
    ['unschedule(5n)', (b) => b.unschedule(5n as never), 'INVALID_SCHEDULE'],
  ])('%s', async (_, call, code, setup) => {
    const r = await onFreshBus(({ bus }) => call(bus), {}, setup && (({ bus }) => setup(bus)))
    expect(r.outcome.ok ? 'accepted' : r.outcome.error.code).toBe(code)
    await r.done()
  })

  it('a getter in the options that throws is refused with its error as cause', async () => {
    const r = await onFreshBus(({ bus }) =>
      bus.publish(
        't',
        1,
        Object.defineProperty({}, 'key', {
          enumerable: true,
          get() {
            throw boom
          },
        }) as never,
      ),
    )
    expect(r.outcome.ok ? undefined : r.outcome.error).toMatchObject({
      code: 'INVALID_OPTIONS',
      cause: boom,
    })
    await r.done()
  })

  it('re-registering a schedule whose data holds a BigInt, a Map and a Date changes nothing', async () => {
    const r = await onFreshBus(async ({ bus, store }) => {
      const spec = {
        every: 60_000,
        type: 'report.due',
        data: { n: 10n ** 20n, m: new Map([[1, new Set([2n])]]), at: new Date(0) },
      }
      await bus.schedule('nightly', spec)
      const before = (await store.get('c/nightly'))!.version
      await bus.schedule('nightly', {
        ...spec,
        data: { n: 10n ** 20n, m: new Map([[1, new Set([2n])]]), at: new Date(0) },
      })
      expect((await store.get('c/nightly'))!.version).toBe(before)
      await bus.schedule('nightly', { ...spec, data: { n: 1n, m: new Map(), at: new Date(0) } })
      expect((await store.get('c/nightly'))!.version).not.toBe(before)
    })
    expect(r.outcome.ok ? 'ok' : r.outcome.error.message).toBe('ok')
    await r.done()
  })

  it('12.7: every schedule tick moves time forward: every 1 ms catches up at most 100 ticks after a long gap', async () => {
    const r = await onFreshBus(async ({ bus, clock }) => {
      await bus.schedule('fast', { every: 1, type: 't', data: 1, catchUp: 'all' })
      await clock.advance(10)
      return (await bus.read({ limit: 1000 })).events.length
    })
    expect(r.outcome.ok && r.outcome.value).toBeGreaterThan(0)
    await r.done()
  })

  it('manualClock.advance refuses a target no Date can hold instead of never returning', async () => {
    const r = await onFreshBus(({ clock }) => clock.advance(1e21))
    expect(r.outcome.ok ? 'accepted' : r.outcome.error.code).toBe('INVALID_OPTIONS')
    await r.done()
  })
})
