import type { UpgradeWebSocket } from 'hono/ws'
import type { Scope } from './_auth.js'
import type { ServedBus } from './served-bus.js'
import type { WebhookScheme } from './webhooks.js'

/**
 * How a signed webhook from one source becomes an event.
 *
 * @example
 * const github: WebhookSource = { scheme: 'github', secrets: [env.GITHUB_SECRET], map: (p, h) => ({ type: `github.${h.get('x-github-event')}`, data: p }) }
 */
export interface WebhookSource {
  scheme: WebhookScheme
  /** Several during a key rotation: any one that matches will do. */
  secrets: readonly string[]
  /**
   * Payload and headers to the event; default `{ type: 'webhook.<source>', data: payload }`. The
   * payload is the body decoded: JSON parsed, form fields decoded (GitHub's `payload=` field as its
   * JSON), other text as a string.
   */
  map?: (payload: unknown, headers: Headers) => { type: string; data: unknown; key?: string }
  /** How far a signed timestamp may be from now, in seconds (Standard Webhooks, Svix, Stripe). Default 300. */
  tolerance?: number
}

/**
 * Options of `busApp`. Closed by default: with neither `tokens` nor `auth: false`, every route but `/health` is 401.
 *
 * @example
 * const options: BusAppOptions = { bus, tokens: { [token]: ['publish:order.**', 'admin'] }, limits: { perTokenPerMinute: 600 } }
 */
export interface BusAppOptions {
  /** The local `Bus`, the Cloudflare client, or anything else with what {@link ServedBus} lists. */
  bus: ServedBus
  /** Bearer tokens and their scopes: `publish:<pattern>`, `subscribe:<pattern>`, `admin`. */
  tokens?: Record<string, readonly Scope[]>
  /** `false` opens every route to anyone: for local development only. */
  auth?: false
  webhooks?: Record<string, WebhookSource>
  /**
   * Request body (default 1 MiB), events per batch (default 100), requests per token per minute
   * (default unlimited), events queued for one slow stream client before it is cut off (default 10,000).
   */
  limits?: { bodyBytes?: number; batch?: number; perTokenPerMinute?: number; streamQueue?: number }
  /** Time for webhook tolerance and rate windows. Default `Date.now`. */
  now?: () => number
  /**
   * The runtime's WebSocket helper (`hono/cloudflare-workers`, `@hono/node-server`, `hono/deno`,
   * `hono/bun`): with it, `GET /stream` also upgrades to a WebSocket. Without it, SSE only.
   */
  upgradeWebSocket?: UpgradeWebSocket<any>
  /**
   * How `GET /stream` follows the bus: by default it listens (`bus.on`); `{ poll: ms }` tails the
   * log with `bus.read` instead, for a bus without live listeners (the Cloudflare client in a
   * Worker). Either way an event's id is the bus's cursor right after it.
   */
  stream?: { poll: number }
  /**
   * Told of every failure that is not a refusal of bad input (the client gets 500 `INTERNAL` and no
   * details; a stream is closed). Default: `console.error`.
   */
  onError?: (error: unknown, request: Request) => void
  /** `true` serves `GET /dashboard`: the page is open (it holds no data), its calls use the user's token. */
  dashboard?: boolean
}
