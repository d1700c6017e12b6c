// Opens same-origin iframes as tabs: each has its own document, so removing one is a tab closing
// (its Web Locks are released, its BroadcastChannels and connections closed).
export type TabApi = typeof import('../../src/index.js') &
  typeof import('../../src/testing.js') &
  typeof import('../../adapters/indexeddb/index.js') & {
    local<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => Promise<Awaited<R>>
  }
export interface Tab {
  api: TabApi
  window: Window
  /** A copy made in the tab's realm: the core refuses payloads whose prototypes are another realm's. */
  data<T>(value: T): T
  close(): void
  reload(): Promise<void>
}

const load = (frame: HTMLIFrameElement) =>
  new Promise<TabApi>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the tab did not load in 10 s')), 10_000)
    const check = () => {
      const w = frame.contentWindow as (Window & { tidings?: TabApi }) | null
      if (w?.tidings) {
        clearTimeout(timer)
        resolve(w.tidings)
        return
      }
      setTimeout(check, 10)
    }
    check()
  })

export const openTab = async (): Promise<Tab> => {
  const frame = document.createElement('iframe')
  frame.src = new URL('./fixtures/tab.html', import.meta.url).href
  document.body.append(frame)
  const tab: Tab = {
    api: await load(frame),
    get window() {
      return frame.contentWindow!
    },
    data: (value) => frame.contentWindow!.structuredClone(value),
    close: () => frame.remove(),
    async reload() {
      delete (frame.contentWindow as Window & { tidings?: TabApi }).tidings
      frame.contentWindow!.location.reload()
      tab.api = await load(frame)
    },
  }
  return tab
}
