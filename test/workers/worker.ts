import { DurableObject } from 'cloudflare:workers'

export class Smoke extends DurableObject {
  add(n: number): number {
    this.ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS t (n INTEGER)')
    this.ctx.storage.sql.exec('INSERT INTO t VALUES (?)', n)
    return this.ctx.storage.sql.exec<{ s: number }>('SELECT sum(n) AS s FROM t').one().s
  }
}
export default { fetch: () => new Response('ok') }
