// Free names of the Cloudflare snippets (test/docs.test.ts): the Worker's bindings.
import type { BusNamespace } from 'tidings/cloudflare'
import type { Scope } from 'tidings/hono'

declare global {
  interface Env {
    BUS: BusNamespace
    DELIVERY: Queue
    TOKEN: string
  }
  /** Bearer tokens and their scopes. */
  const tokens: Record<string, readonly Scope[]>
}
export {}
