import type { Hono } from 'hono'
import type { Grant } from './_auth.js'
import type { BusAppOptions } from './app.js'
import type { ServedBus } from './served-bus.js'

/** @internal The app's variables: the grant the auth middleware found. */
export type Env = { Variables: { grant: Grant } }

/** @internal What every route family is given: the bus, the options and the limits read from them once. */
export interface RouteContext {
  bus: ServedBus
  options: BusAppOptions
  now: () => number
  bodyBytes: number
  batchMax: number
  /** Reports a failure that is not a refusal of bad input (never throws). */
  internal: (e: unknown, request: Request) => void
}

/** @internal Registers one family of routes on the app. */
export type Routes = (app: Hono<Env>, context: RouteContext) => void

/** `{ [key]: value }` when the value is there, `{}` otherwise (exact optional properties). */
export const opt = <K extends string>(key: K, value: string | undefined) => (value === undefined ? {} : { [key]: value }) as { [P in K]?: string }
