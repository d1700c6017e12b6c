import { createWaker, type Backoff, type Waker } from './_wake.js'

/** What watching the connection needs from the bridge. */
export interface OnlineHost {
  url: string
  backoff: Backoff
  /** Whether the bridge has closed: probing stops. */
  closed(): boolean
  /** The status's `online` now. */
  online(): boolean
  /** Sets the status's `online`. */
  setOnline(online: boolean): void
}

/** The bridge's view of the connection (see {@link watchOnline}). */
export interface Online {
  /** Probes until the server answers: at once (`now`) or after a backoff. */
  confirm(now: boolean): void
  /** The probe's backoff timer: `sync()` wakes it. */
  waker: Waker
  /** Stops probing and listening to `online`/`offline`. */
  stop(): void
}

/**
 * Going offline is news at once; coming back is confirmed by a request or a probe: listens to the
 * browser's `offline` and `online` events and probes `GET <url>/health` (at once on start).
 *
 * @example
 * const online = watchOnline({ url, backoff, closed: () => closed, online: () => status.online, setOnline: (online) => update({ online }) })
 * online.confirm(false) // after a failure nothing will retry
 */
export const watchOnline = (host: OnlineHost): Online => {
  const { url } = host
  const probeWaker = createWaker(host.backoff)
  let probing = false
  /** One cheap request that needs no token: does the server answer? */
  const probe = async () => {
    const ok = await fetch(`${url}/health`, { cache: 'no-store' }).then(
      (r) => r.ok,
      () => false,
    )
    if (!host.closed() && (ok && navigator.onLine) !== host.online())
      host.setOnline(ok && navigator.onLine)
    return ok
  }
  /**
   * Probes until the server answers: at once (`now`) or after a backoff, then after each backoff,
   * cut short by `online`. Without it, a status gone offline waits for a request that may never
   * come (nothing pending, no stream).
   */
  const confirm = (now: boolean) => {
    if (probing || host.closed()) return
    probing = true
    void (async () => {
      try {
        if (!now) await probeWaker.wait()
        while (!host.closed() && !(await probe())) await probeWaker.wait()
        probeWaker.reset()
      } finally {
        probing = false
      }
    })()
  }
  const onOffline = () => {
    host.setOnline(false)
    confirm(false)
  }
  const onOnline = () => confirm(true)
  addEventListener('offline', onOffline)
  addEventListener('online', onOnline)
  confirm(true)
  return {
    confirm,
    waker: probeWaker,
    stop() {
      probeWaker.stop()
      removeEventListener('offline', onOffline)
      removeEventListener('online', onOnline)
    },
  }
}
