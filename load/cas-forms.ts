/**
 * The seat compare-and-set of a group-committed batch, in its two SQL forms, timed interleaved on one MariaDB
 * connection: `npx tsx load/cas-forms.ts [seats=272] [rounds=30]` (LOAD_MYSQL_URL, default
 * mysql://root@127.0.0.1:3306). Each round reads `seats` random seats of a 1,000-seat event and moves them to
 * held with each form in turn (`casSeats('case')`, the CASE-per-column UPDATE SQLite keeps, and `casSeats('joined')`,
 * the UPDATE joined to a derived table that MySQL uses), each in a transaction that is rolled back, so both
 * forms see the same table. Prints the median and p90 per form. 272 seats is the size of the largest batches
 * in a flash sale (136 two-seat holds).
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { createDb, migrateLatest } from '../server/db/knex';
import { casSeats, type SeatWrite } from '../server/inventory/seat-cas';

const url = (process.env.LOAD_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306').replace(/\/$/, '');
const seats = Number(process.argv[2] ?? 272);
const rounds = Number(process.argv[3] ?? 30);

async function main(): Promise<void> {
  const name = `evently_cas_${randomBytes(3).toString('hex')}`;
  const admin = await mysql.createConnection({ uri: url });
  await admin.query(`CREATE DATABASE \`${name}\``);
  const db = createDb({ database: { client: 'mysql2', url: `${url}/${name}` }, dbPoolMax: 1 } as Parameters<typeof createDb>[0]);
  try {
    await migrateLatest(db);
    await db.raw('SET FOREIGN_KEY_CHECKS = 0');
    const eventId = 1;
    await db('event_seats').insert(Array.from({ length: 1000 }, (_, i) => ({ event_id: eventId, seat_id: i + 1, status: 'available', version: 1, price_cents: 1000 })));
    const forms = { case: casSeats.bind(null, 'case'), joined: casSeats.bind(null, 'joined') };
    const times: Record<string, number[]> = { case: [], joined: [] };
    for (let r = 0; r < rounds; r++) {
      for (const [form, cas] of Object.entries(forms)) {
        const ids = new Set<number>();
        while (ids.size < seats) ids.add(1 + Math.floor(Math.random() * 1000));
        await db.transaction(async (trx) => {
          const rows = (await trx('event_seats').where('event_id', eventId).whereIn('seat_id', [...ids]).orderBy('seat_id').select('seat_id', 'version')) as { seat_id: number; version: number }[];
          const writes: SeatWrite[] = rows.map((s) => ({ seat_id: s.seat_id, readVersion: s.version, status: 'held', version: s.version + 1, hold_id: 7, hold_expires_at: Date.now() + 60_000, booking_id: null }));
          const t0 = process.hrtime.bigint();
          const changed = await cas(trx, eventId, writes);
          times[form]!.push(Number(process.hrtime.bigint() - t0) / 1e6);
          if (changed !== writes.length) throw new Error(`${form}: changed ${changed} of ${writes.length}`);
          await trx.rollback();
        }).catch((err: unknown) => {
          if (err !== undefined) throw err; // knex rejects an explicitly rolled-back transaction with undefined
        });
      }
    }
    for (const [form, t] of Object.entries(times)) {
      t.sort((a, b) => a - b);
      console.log(`${form.padEnd(7)} ${seats} seats: median ${t[t.length >> 1]!.toFixed(2)} ms, p90 ${t[Math.floor(t.length * 0.9)]!.toFixed(2)} ms (${t.length} rounds)`);
    }
  } finally {
    await db.destroy();
    await admin.query(`DROP DATABASE \`${name}\``);
    await admin.end();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
