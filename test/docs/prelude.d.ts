// Free names the README snippets assume (test/docs.test.ts): what a reader has from the snippet
// before, or from their own app. Nothing here is tidings' own API beyond re-declaring its exports
// under the names the snippets use.
import type { Bus } from 'tidings'

declare global {
  /** The event map of the README's examples (Quick start and what follows). */
  type Events = {
    'order.placed': { id: string; total: number }
    'order.paid': { id: string }
    'user.created': { email: string }
    'mail.sent': { to: string }
    'todo.added': { id: string }
    'report.due': Record<string, never>
    heartbeat: Record<string, never>
    launch: Record<string, never>
  }
  /** A bus of those events, as the Quick start makes it. */
  const bus: Bus<Events>
  /** A bearer token the app was given. */
  const token: string
  /** An order of the app. */
  const order: Events['order.placed']
  const todo: Events['todo.added']
  /** The app's own side effects. */
  function sendMail(data: Events['order.placed']): Promise<void>
  function sendWelcome(...args: unknown[]): Promise<void>
  function render(view: unknown): void
}
export {}
