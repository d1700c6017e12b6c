// Two helpers every part of the page uses.

/** The one element matching `sel` (the page's own markup: it is there). */
export const $ = <T extends HTMLElement = HTMLElement>(sel: string): T =>
  document.querySelector<T>(sel)!

/** Text made safe for innerHTML. */
export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
