// The demo's edge: one Worker with a sharded BusObject, Queue delivery, Cron Triggers, a signed
// payment webhook and the HTTP app. demo/wrangler.toml binds it; demo/run.js serves it locally.
import { BusObject, cloudflareBus } from 'tidings/cloudflare'
import { busApp } from 'tidings/hono'
import { PAYMENTS_SECRET, SHARDS } from './shared.js'
import { subscriptions } from './subscriptions.js'

export interface Env {
  BUS: DurableObjectNamespace<DemoBus>
  DELIVERY: Queue
}

/** The Durable Object class: one per shard, owning that shard's log, cursors, retries and dead letters. */
export class DemoBus extends BusObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, {
      subscriptions,
      queue: env.DELIVERY,
      // One line per dead letter in the runner's terminal (the default prints the whole event).
      bus: {
        source: 'edge',
        onError: (error, { subscription, event }) =>
          console.log(
            `edge: ${subscription ?? 'a listener'} gave up on ${event?.type} ${event?.id}: ${(error as Error).message}`,
          ),
      },
    })
  }
}

const bus = (env: Env) =>
  cloudflareBus(env.BUS, { shards: SHARDS, subscriptions, deadLetterQueue: 'demo-dlq' })

/**
 * The `report.hourly` schedule, registered on the home shard by the first request or cron tick of
 * each isolate. Registering an identical spec again changes nothing, so every isolate may do it.
 * Its cron is also in wrangler.toml, so the Cron Trigger fires it (the alarm would too; the
 * shared event id stores one).
 */
let registered: Promise<unknown> | undefined
const registerSchedules = (env: Env) =>
  (registered ??= bus(env)
    .schedule('hourly-report', {
      cron: '* * * * *',
      type: 'report.hourly',
      data: { note: 'every minute, so the demo shows it' },
    })
    .catch((e: unknown) => {
      registered = undefined
      throw e
    }))

/** The HTTP app: open (auth: false) because this Worker only ever runs locally, for the demo. */
const app = (env: Env) =>
  busApp({
    bus: bus(env),
    auth: false,
    // The Cloudflare client has no live listeners: /stream (the bridge's receiving half) tails the log.
    stream: { poll: 250 },
    webhooks: {
      payments: {
        scheme: 'standard',
        secrets: [PAYMENTS_SECRET],
        map: (payload) => {
          const p = payload as { order: string; amount: number }
          return {
            type: 'payment.processed',
            data: { order: p.order, amount: p.amount, provider: 'demo-pay' },
            key: p.order,
          }
        },
      },
    },
  })

export default {
  async fetch(request, env) {
    await registerSchedules(env)
    // The dashboard's live stream: one hibernating WebSocket per shard, pushed by the objects
    // (busApp's /stream, which the bridge reads, polls the log instead).
    const live = /^\/live\/(\d+)$/.exec(new URL(request.url).pathname)
    if (live) return bus(env).connect(request, Number(live[1]))
    return app(env).fetch(request)
  },
  queue: (batch, env) => bus(env).queue(batch),
  async scheduled(controller, env) {
    await registerSchedules(env)
    await bus(env).scheduled(controller)
  },
} satisfies ExportedHandler<Env>
