import { flowScript } from './_dashboard-flow.js'
import { panelsScript } from './_dashboard-panels.js'

/**
 * The dashboard's script, shipped inline in the page (no build step, no CDN). Plain browser
 * JavaScript in a string: the adapter is compiled without DOM types, and the page must run as
 * served. Every piece of bus data reaches the DOM as text (`textContent`, `append(string)`,
 * attribute values), never as markup, so an event carrying `<img onerror>` shows as those characters.
 *
 * It calls the app's own routes, relative to the page (`/bus/dashboard` calls `/bus/stats`), with
 * the tab's token as `Authorization: Bearer`. The live flow reads `GET /stream` with `fetch` rather
 * than `EventSource`, so the token travels in a header (not in a URL that logs keep) and a refusal
 * arrives with its status (401 or 403) and message instead of an anonymous error event.
 *
 * @example
 * const html = `<script nonce="${nonce}">${dashboardScript}</script>`
 */
export const dashboardScript: string =
  '(() => {\n' +
  String.raw`'use strict'
const TOKEN_KEY = 'tidings.dashboard.token'
const VIEW_KEY = 'tidings.dashboard.view'
const POLL_MS = 2000
const KEEP = 200
const SVG = 'http://www.w3.org/2000/svg'
const base = new URL('.', location.href)
const byId = (id) => document.getElementById(id)
let token = sessionStorage.getItem(TOKEN_KEY) || ''
// The bus refused the token: nothing is called until the user gives another.
let refused = false
let polling
const saved = (() => { try { return JSON.parse(sessionStorage.getItem(VIEW_KEY) || '{}') } catch { return {} } })()
let topic = typeof saved.topic === 'string' && saved.topic ? saved.topic : '**'
let lastId = typeof saved.lastId === 'string' ? saved.lastId : undefined
let shown = Array.isArray(saved.events) ? saved.events : []
const access = { flow: undefined, admin: undefined }

/** An element with text children only: strings become text nodes, never markup. */
const el = (tag, props, ...children) => {
  const node = document.createElement(tag)
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null) continue
    if (key === 'class') node.className = value
    else if (key === 'data') { for (const [name, item] of Object.entries(value)) if (item !== undefined && item !== null) node.dataset[name] = String(item) }
    else if (key === 'title') node.title = String(value)
    else node.setAttribute(key, String(value))
  }
  for (const child of children) if (child !== undefined && child !== null && child !== false) node.append(typeof child === 'object' ? child : String(child))
  return node
}
const errorMessage = (body, fallback) => (body && body.error && typeof body.error.message === 'string' ? body.error.message : fallback)
const dash = '—'
const count = (value) => (typeof value === 'number' ? String(value) : dash)
const ms = (value) => (typeof value === 'number' ? (value < 10 ? value.toFixed(1) : String(Math.round(value))) + ' ms' : dash)
const clock = (time) => new Date(time).toLocaleTimeString()
const relative = (time) => {
  const seconds = Math.round((time - Date.now()) / 1000), size = Math.abs(seconds)
  if (size < 2) return 'now'
  const span = size < 90 ? size + ' s' : size < 5400 ? Math.round(size / 60) + ' min' : Math.round(size / 3600) + ' h'
  return seconds >= 0 ? 'in ' + span : span + ' ago'
}
const when = (time) => (typeof time === 'number' ? clock(time) + ' (' + relative(time) + ')' : dash)
const notice = (text, isError) => { const line = byId('notice'); line.textContent = text; line.className = isError ? 'err' : 'ok' }

class Refused extends Error {}

/** One call to the app; a 401 stops everything and asks for a token. */
const call = async (method, path) => {
  if (refused) throw new Refused('refused')
  const headers = { accept: 'application/json' }
  if (token) headers.authorization = 'Bearer ' + token
  const response = await fetch(new URL(path, base), { method, headers, cache: 'no-store' })
  const body = await response.json().catch(() => undefined)
  if (response.status === 401) { refuse(body); throw new Refused('refused') }
  return { ok: response.ok, status: response.status, body }
}

const showAccess = () => {
  const parts = []
  if (access.flow === true) parts.push('events on ' + topic)
  if (access.flow === false) parts.push('no events on ' + topic)
  if (access.admin === true) parts.push('admin routes')
  if (access.admin === false) parts.push('no admin routes')
  byId('access').textContent = parts.length ? 'this token sees: ' + parts.join(', ') : ''
  byId('who').textContent = token ? 'token set for this tab' : access.flow || access.admin ? 'no token needed' : 'no token'
}

const refuse = (body) => {
  refused = true
  stopStream()
  setStatus('refused')
  byId('auth').hidden = false
  byId('auth-message').textContent = token
    ? 'The bus refused this token: ' + errorMessage(body, 'unknown token') + '. Enter another.'
    : 'This bus needs a token (' + errorMessage(body, 'a bearer token is required') + ').'
  byId('token').focus()
  showAccess()
}

byId('auth').addEventListener('submit', (event) => {
  event.preventDefault()
  token = byId('token').value.trim()
  byId('token').value = ''
  sessionStorage.setItem(TOKEN_KEY, token)
  refused = false
  byId('auth').hidden = true
  access.flow = access.admin = undefined
  start()
})
byId('change-token').addEventListener('click', () => { byId('auth').hidden = false; byId('auth-message').textContent = 'Enter a token for this tab.'; byId('token').focus() })

` +
  flowScript +
  panelsScript +
  String.raw`const start = () => {
  showAccess()
  refresh()
  runStream()
  clearInterval(polling)
  polling = setInterval(() => { if (!refused) refresh() }, POLL_MS)
}

byId('topic').value = topic
for (const event of shown) render(event)
if (!shown.length) byId('events').replaceChildren(el('li', { class: 'none' }, 'waiting for events on ' + topic))
drawRate()
start()
})()
`
