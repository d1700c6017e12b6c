// "Simulate offline": cuts the shop's link to the edge (the bridge's POST /events) while the page
// keeps running, so the outbox fills and flushes as it would on a train. The dashboard stays
// connected on purpose: it is the edge's view, not the shop's.

/** The switch; `sync` is called on the way back online so the bridge does not sleep out its backoff. */
export const offlineSwitch = (sync: () => void) => {
  let offline = false
  const real = globalThis.fetch.bind(globalThis)
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input), location.href)
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase()
    if (offline && method === 'POST' && url.pathname === '/events')
      return Promise.reject(new TypeError('Failed to fetch (simulated offline)'))
    return real(input, init)
  }
  return {
    get offline() {
      return offline
    },
    set(value: boolean) {
      offline = value
      if (!value) sync()
    },
  }
}
