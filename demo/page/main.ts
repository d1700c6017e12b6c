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
import { markFrom, startShop } from './shop.js'
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
liveEvents(SHARDS, (e: BusEvent) => {
  chart.count()
  renderEvent(e)
  // Live from the edge: 'at the edge' shows here first; the others also arrive through the bridge.
  markFrom(e)
}, (open, of) => { $('#stream-status').textContent = open === of ? 'live' : `${open}/${of} shards` })
