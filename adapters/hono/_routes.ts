import type { Hono } from 'hono'
import type { Grant } from './_auth.js'
import type { BusAppOptions } from './options.js'
import type { ServedBus } from './served-bus.js'

/** @internal The app's variables: the grant the auth middleware found. @example new Hono<Env>() */
export type Env = { Variables: { grant: Grant } }

/** @internal What every route family is given: the bus, the options and the limits read from them once. @example const context: RouteContext = { bus, options, now: Date.now, bodyBytes: 1 << 20, batchMax: 100, internal } */
export interface RouteContext {
  bus: ServedBus
  options: BusAppOptions
  now: () => number
  bodyBytes: number
  batchMax: number
  /** Reports a failure that is not a refusal of bad input (never throws). */
  internal: (e: unknown, request: Request) => void
}

/** @internal Registers one family of routes on the app. @example const health: Routes = (app) => { app.get('/health', (c) => c.json({ ok: true })) } */
export type Routes = (app: Hono<Env>, context: RouteContext) => void

/** `{ [key]: value }` when the value is there, `{}` otherwise (exact optional properties). @example opt('from', c.req.query('from')) */
export const opt = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }
