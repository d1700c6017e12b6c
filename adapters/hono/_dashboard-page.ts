import { dashboardScript } from './_dashboard-script.js'

/** The dashboard's styles: one column on a phone, the flow beside the panels from 1,000 px. */
export const dashboardStyle = `
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2230; background: #f4f6fb; }
body { margin: 0; }
header { display: flex; gap: .7rem; align-items: center; padding: .5rem 1rem; background: #1d2230; color: #fff; flex-wrap: wrap; }
header h1 { font-size: 1rem; margin: 0; font-weight: 600; }
header .grow { flex: 1; }
.pill { padding: .1rem .55rem; border-radius: 1rem; background: #39415a; font-size: .85rem; }
.pill[data-state=live] { background: #1f8a4c; } .pill[data-state=refused] { background: #b8432f; }
#access { color: #c9cfdd; font-size: .85rem; }
#auth { margin: .8rem; padding: .7rem .9rem; background: #fff4e5; border-radius: .5rem; }
#auth input { font: inherit; width: 18rem; max-width: 100%; }
#notice { margin: .5rem 1rem 0; font-size: .85rem; } #notice:empty { display: none; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.15fr); gap: .8rem; padding: .8rem; }
#flow { grid-row: span 3; }
section { background: #fff; border-radius: .5rem; padding: .7rem .9rem; box-shadow: 0 1px 2px #0002; min-width: 0; }
h2 { font-size: .95rem; margin: .1rem 0 .5rem; }
button { font: inherit; padding: .15rem .55rem; border: 1px solid #c9cfdd; border-radius: .3rem; background: #fff; cursor: pointer; }
ul { list-style: none; margin: 0; padding: 0; } li { padding: .25rem 0; border-bottom: 1px solid #eef0f5; overflow-wrap: anywhere; }
#events { max-height: 70vh; overflow: auto; font-size: .82rem; }
#events time { color: #888; } #events code.id { color: #7a55c8; }
#events .data { color: #444; font-family: ui-monospace, monospace; font-size: .78rem; white-space: pre-wrap; }
#events li.chain { background: #fff7d6; }
button.chip { font-size: .72rem; padding: 0 .35rem; margin-left: .3rem; color: #555; } button.chip.on { background: #ffe58a; }
#filter { display: flex; gap: .4rem; align-items: center; margin-bottom: .4rem; } #filter input { font: inherit; width: 12rem; }
.rate { display: flex; gap: .6rem; align-items: center; font-size: .8rem; color: #555; }
svg .line { fill: none; stroke: #4f7cff; stroke-width: 1.5; } svg .area { fill: #4f7cff22; }
.scroll { overflow-x: auto; }
table { width: 100%; border-collapse: collapse; font-size: .8rem; } th, td { text-align: right; padding: .15rem .3rem; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; } th { color: #555; font-weight: 600; }
.tp { display: inline-flex; align-items: center; gap: .2rem; }
pre { font-size: .75rem; background: #f8f9fc; padding: .4rem; overflow: auto; max-height: 12rem; }
.muted, .none { color: #888; } .err { color: #b8432f; } .ok { color: #1f8a4c; } .note { margin: 0 0 .3rem; }
/* Last, so it overrides: one column below 1,000 px, with a shorter flow so the panels show too. */
@media (max-width: 1000px) { main { grid-template-columns: minmax(0, 1fr); } #flow { grid-row: auto; } #events { max-height: min(40vh, 19rem); } }
`

/**
 * The whole dashboard page: markup, styles and script inline, for one response. `nonce` is the
 * request's Content-Security-Policy nonce, the only way its inline style and script may run.
 *
 * @example
 * return c.html(dashboardHtml(nonce))
 */
export const dashboardHtml = (nonce: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>tidings dashboard</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<style nonce="${nonce}">${dashboardStyle}</style>
</head>
<body>
<header>
  <h1>tidings dashboard</h1>
  <span class="pill">stream <b id="stream-status">…</b></span>
  <span id="access"></span>
  <span class="grow"></span>
  <span id="who"></span>
  <button id="change-token" type="button">change token</button>
</header>
<form id="auth" hidden>
  <label>Token <input id="token" type="password" autocomplete="off"></label>
  <button type="submit">use this token</button>
  <p id="auth-message" class="err" role="alert"></p>
  <p class="muted">Kept for this tab only (sessionStorage) and sent as <code>Authorization: Bearer</code>. The dashboard shows what the token may see.</p>
</form>
<p id="notice" role="status"></p>
<main>
  <section id="flow">
    <h2>Live flow <span class="muted">(↳ caused by the event above; "chain" highlights a correlation)</span></h2>
    <form id="filter"><label>topic <input id="topic" value="**" spellcheck="false"></label><button type="submit">filter</button></form>
    <div class="rate"><span id="rate"></span><span id="rate-label"></span></div>
    <p id="flow-note" class="err note"></p>
    <ul id="events"></ul>
  </section>
  <section id="subscriptions">
    <h2>Subscriptions</h2>
    <p class="note err"></p>
    <div class="scroll"><table>
      <thead><tr><th>name</th><th>lag</th><th>in flight</th><th>retrying</th><th>dead</th><th>handled</th><th>failed</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>last handled</th><th>throughput</th></tr></thead>
      <tbody id="subs"></tbody>
    </table></div>
  </section>
  <section id="dead-letters">
    <h2>Dead letters</h2>
    <p class="note err"></p>
    <ul id="letters"></ul>
  </section>
  <section id="schedules">
    <h2>Schedules</h2>
    <p class="note err"></p>
    <ul id="schedule-list"></ul>
  </section>
</main>
<script nonce="${nonce}">${dashboardScript}</script>
</body>
</html>
`
