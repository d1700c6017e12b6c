// The demo page: the shop (IndexedDB + bridge), the payment buttons, and the dashboard over the
// edge (live sockets, admin panels, throughput chart).
import type { BusEvent } from 'tidings'
import { SHARDS } from '../shared.js'
import { throughput } from './chart.js'
import { $ } from './dom.js'
import { liveEvents } from './live.js'
import { offlineSwitch } from './offline.js'
import { startPanels } from './panels.js'
import { startPayments } from './payments.js'
import { markOrder, startShop } from './shop.js'
import { renderEvent } from './stream.js'

const { sync } = startShop()
const network = offlineSwitch(() => sync.sync())
const showNet = () => {
  const net = $('#net')
  net.textContent = network.offline ? 'offline (simulated)' : 'online'
  net.className = `pill ${network.offline ? 'offline' : 'online'}`
}
$<HTMLInputElement>('#offline').addEventListener('change', (ev) => { network.set((ev.target as HTMLInputElement).checked); showNet() })
showNet()

startPayments()
startPanels()

const chart = throughput()
/** What the edge says about an order, shown next to it in the shop. */
const marks: Record<string, string> = { 'order.placed': 'at the edge', 'inventory.reserved': 'reserved', 'email.sent': 'mailed', 'payment.processed': 'paid' }
liveEvents(SHARDS, (e: BusEvent) => {
  chart.count()
  renderEvent(e)
  const mark = marks[e.type]
  const data = e.data as { id?: string; order?: string }
  const order = e.type === 'order.placed' ? data.id : data.order
  if (mark && order) markOrder(order, mark)
}, (open, of) => { $('#stream-status').textContent = open === of ? 'live' : `${open}/${of} shards` })
