// Case 4: durable delivery throughput on the memory store. One durable subscription (a no-op async
// handler, default retention) takes every event; publishes are not awaited one by one and the round
// ends when `bus.idle()` resolves, i.e. every event has been handled and its ack committed.
// `tidings-hotkey`: the same, every event with one ordering key (`key: 'hot'`), so at most one runs
// at a time whatever the concurrency; compared with `tidings` at the same concurrency.
// Peers: emittery, `await emitter.emit()` per event with one async no-op listener (emittery's emit
// resolves once its listeners have, so it is awaited in sequence); p-queue and fastq, the in-process
// job queues a Node user would otherwise pick: n async no-op jobs added at once, at the same
// concurrency, until the queue is idle (no store, no retries: what the durable log costs on top).
// tidings-otel: the same with `instrumentation: otel()` over the real OpenTelemetry SDK (a publish
// span and a process span per event, through a BatchSpanProcessor (the production default) to an
// exporter that drops them), the cost of tracing every event.
// usage: node bench/cases/durable.js <tidings|tidings-hotkey|tidings-otel|emittery|p-queue|fastq> <events per round> [concurrency]
import { args, expectCalls, measure, tidingsRound } from '../harness.js'

const {
  subject,
  nums: [n = 100_000, concurrency = 1],
} = args()
const data = { total: 42 }

/** One tidings round: one durable subscription at `concurrency`, n publishes with `options`. */
const durableRound = (createBus, what, options) => (n) =>
  tidingsRound(createBus, {
    n,
    topic: 'order.placed',
    data,
    options,
    what: `${what} (concurrency ${concurrency})`,
    attach: (bus, count) =>
      bus.subscribe(
        'bench',
        'order.placed',
        async () => {
          count()
        },
        concurrency === 1 ? undefined : { concurrency },
      ),
  })

const subjects = {
  async tidings() {
    const { createBus } = await import('tidings')
    return durableRound(createBus, 'tidings')
  },
  async 'tidings-hotkey'() {
    const { createBus } = await import('tidings')
    return durableRound(createBus, 'tidings-hotkey', { key: 'hot' })
  },
  async 'tidings-otel'() {
    const { createBus } = await import('tidings')
    const { otel } = await import('tidings/otel')
    const { BasicTracerProvider, BatchSpanProcessor } =
      await import('@opentelemetry/sdk-trace-base')
    const dropping = { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
    const tracer = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(dropping)],
    }).getTracer('bench')
    return durableRound(
      (options) => createBus({ ...options, instrumentation: otel({ tracer }) }),
      'tidings-otel',
    )
  },
  async emittery() {
    const { default: Emittery } = await import('emittery')
    return async (n) => {
      const emitter = new Emittery()
      let calls = 0
      emitter.on('order.placed', async () => {
        calls++
      })
      const t0 = performance.now()
      for (let i = 0; i < n; i++) await emitter.emit('order.placed', data)
      const ms = performance.now() - t0
      expectCalls(calls, n, 'emittery')
      return ms
    }
  },
  async 'p-queue'() {
    const { default: PQueue } = await import('p-queue')
    return async (n) => {
      const queue = new PQueue({ concurrency })
      let calls = 0
      const job = async () => {
        calls++
      }
      const t0 = performance.now()
      for (let i = 0; i < n; i++) void queue.add(job)
      await queue.onIdle()
      const ms = performance.now() - t0
      expectCalls(calls, n, 'p-queue')
      return ms
    }
  },
  async fastq() {
    const { default: fastq } = await import('fastq')
    return async (n) => {
      let calls = 0
      const queue = fastq.promise(async () => {
        calls++
      }, concurrency)
      const t0 = performance.now()
      for (let i = 0; i < n; i++) void queue.push(data)
      await queue.drained()
      const ms = performance.now() - t0
      expectCalls(calls, n, 'fastq')
      return ms
    }
  },
}

if (!subjects[subject]) throw new Error(`unknown subject ${subject}`)
await measure(await subjects[subject](), { n })
