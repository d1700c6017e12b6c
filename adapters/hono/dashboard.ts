import type { Hono } from 'hono'
import { dashboardHtml } from './_dashboard-page.js'

/** A fresh nonce per page: the one inline style and script it allows are the page's own. */
const nonce = (): string => {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return btoa(String.fromCharCode(...bytes))
}

/**
 * The page's policy: its own inline script and style (by nonce), calls to its own origin, no
 * plugins, frames, forms or base changes; framed only by its own origin (the demo embeds it).
 */
const policy = (once: string): string =>
  [
    "default-src 'none'",
    `script-src 'nonce-${once}'`,
    `style-src 'nonce-${once}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'self'",
  ].join('; ')

/**
 * Adds `GET /dashboard` to an app: one page with its script and styles inline, served without
 * auth because it holds no data; every call it makes goes to the app's own routes with the token
 * the user gives it, so it shows what that token may see.
 *
 * @example
 * const app = new Hono()
 * mountDashboard(app) // before the auth middleware
 */
export const mountDashboard = (app: Hono<any>): void => {
  app.get('/dashboard', (c) => {
    const once = nonce()
    c.header('Content-Security-Policy', policy(once))
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'no-referrer')
    c.header('Cache-Control', 'no-store')
    return c.html(dashboardHtml(once))
  })
}
