/** Polls `ok` every 10 ms until it holds; fails the test after `ms` with `what`. */
export const until = async (
  ok: () => boolean | Promise<boolean>,
  what: string,
  ms = 5000,
): Promise<void> => {
  const end = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export const unique = (prefix: string) => `${prefix}-${Math.random().toString(36).slice(2, 10)}`
