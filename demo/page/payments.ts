// The payment provider, played by two buttons: a Standard Webhooks request to /webhooks/payments,
// signed with the source's secret (good) or another one (refused by the edge, nothing stored).
import { signStandard } from 'tidings/hono'
import { PAYMENTS_SECRET } from '../shared.js'
import { $, esc } from './dom.js'

const WRONG_SECRET = `whsec_${btoa('not-the-payments-secret')}`

/** Posts one signed payment for the newest order in the list (or a made-up one). */
const pay = async (secret: string) => {
  const order = document.querySelector<HTMLElement>('#orders li')?.dataset.order ?? 'o-none'
  const body = JSON.stringify({ order, amount: 25 })
  const id = `pay_${crypto.randomUUID().slice(0, 12)}`
  const signed = await signStandard({ id, timestamp: Math.floor(Date.now() / 1000), body, secret })
  const res = await fetch('/webhooks/payments', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...signed },
    body,
  })
  const reply = (await res.json()) as { id?: string; error?: { code: string; message: string } }
  const out = $('#webhook-result')
  out.dataset.status = String(res.status)
  out.className = res.ok ? 'ok' : 'err'
  out.innerHTML = res.ok
    ? `accepted ${esc(id)} for ${esc(order)} → <code>payment.processed</code> (${esc(reply.id)})`
    : `refused ${esc(id)}: ${res.status} ${esc(reply.error?.code)}: ${esc(reply.error?.message)}`
}

/** Wires the two webhook buttons. */
export const startPayments = () => {
  $('#webhook').addEventListener('click', () => void pay(PAYMENTS_SECRET))
  $('#webhook-bad').addEventListener('click', () => void pay(WRONG_SECRET))
}
