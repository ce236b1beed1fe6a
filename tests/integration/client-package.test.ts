import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { launchBrowser, openContext } from '../e2e/browser';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { startSiteProxy } from '../helpers/site-proxy';

/**
 * Issue 14, item 2: the client package is installable. It is built and packed (`npm pack`) as a user of the
 * repository would, installed from the tarball into a fresh project outside the repository, type-checked there
 * by a strict consumer (which must also be REFUSED when it sends a wrong payload), and the Node example of its
 * README runs against a real server: it signs in, watches an event, holds a seat, sees it held in its live map,
 * and books it — the database then holds that booking; and the README's browser example (an import map, no
 * bundler) runs in Chromium and follows a hold live.
 */
const run = promisify(execFile);
const REPO = join(__dirname, '..', '..');
const PACKAGE = join(REPO, 'packages', 'client');
const TSC = require.resolve('typescript/bin/tsc', { paths: [REPO] });
// The npm cache from `npm ci` has every package the tarball depends on.
const NPM_OFFLINE = ['--prefer-offline', '--no-audit', '--no-fund'];

/** A strict consumer: what must compile, and (each @ts-expect-error) what must not, or the types have gone `any`. */
const CONSUMER = `
import { EventlyClient, EventlyError, SeatMap, isEventlyError, type BookingView, type CommandReply, type HoldView, type SeatState } from '@evently/client';

export async function consume(): Promise<void> {
  const client = new EventlyClient({ baseUrl: 'http://localhost:3000' });
  const auth = await client.auth.login({ email: 'user@example.com', password: 'user-password' });
  const role: 'user' | 'box_office' | 'admin' = auth.user.role;
  const hold: HoldView = await client.holds.create(1, { seatIds: [1, 2] });
  const booking: BookingView = await client.bookings.confirm(hold.holdToken);
  const watch = client.watch(1);
  await watch.ready;
  const map: SeatMap = watch.map;
  const seat: SeatState | undefined = map.seats.get(1);
  const viaSocket: CommandReply<'seat:hold'> = await watch.send('seat:hold', { seatIds: [3] });
  const released = await watch.send('seat:release', { holdToken: viaSocket.holdToken });
  const mode: 'changes' | 'snapshot' = (await watch.send('seats:sync', {})).mode;
  watch.socket.on('hold:expired', (notice) => console.log(notice.seatIds.length));
  try {
    await client.bookings.cancel(booking.id);
  } catch (err) {
    if (isEventlyError(err)) console.log(err.status, err.code, err.details);
  }
  // @ts-expect-error seat ids are numbers
  await watch.send('seat:hold', { seatIds: ['A1'] });
  // @ts-expect-error not a command of the protocol
  await watch.send('seat:steal', {});
  // @ts-expect-error a hold has no reference (a booking does)
  console.log(hold.reference);
  // @ts-expect-error register needs a name
  await client.auth.register({ email: 'a@b.c', password: 'long-enough' });
  console.log(role, seat?.status, released, mode, new EventlyError({ code: 'X', message: 'y' }).code);
}
`;

/** An example of the README (`node-example`, `browser-example`), as the file a user would save. */
function readmeExample(name: string): string {
  const readme = readFileSync(join(PACKAGE, 'README.md'), 'utf8');
  const m = new RegExp(`<!-- ${name}:start -->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\`\\s*<!-- ${name}:end -->`).exec(readme);
  if (!m) throw new Error(`packages/client/README.md has no ${name} block`);
  return m[1]!;
}

describe('@evently/client, installed from its tarball', () => {
  let env: TestEnv;
  let event: SeededEvent;
  let project: string;
  let tarball: string;

  beforeAll(async () => {
    project = mkdtempSync(join(tmpdir(), 'evently-client-consumer-'));
    // The build (a child process) and the server's start overlap.
    [env] = await Promise.all([startTestEnv({ dialect: 'sqlite', sweeper: false }), run(process.execPath, [join(REPO, 'scripts', 'build-client-package.mjs')], { cwd: REPO })]);
    event = await seedEvent(env, { rows: 3, seatsPerRow: 5 });
    const packed = await run('npm', ['pack', '--json', '--pack-destination', project], { cwd: PACKAGE });
    tarball = join(project, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }));
    await run('npm', ['install', tarball, ...NPM_OFFLINE], { cwd: project });
  }, 120_000);
  afterAll(async () => {
    await env?.stop();
    if (project) rmSync(project, { recursive: true, force: true });
  });

  it('When the tarball is listed, then it ships the bundles, the declarations and the README, and no sources', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean);
    expect(files).toEqual(expect.arrayContaining(['package/dist/index.mjs', 'package/dist/index.cjs', 'package/dist/types/packages/client/src/index.d.ts', 'package/README.md']));
    expect(files.filter((f) => f.includes('/src/') && !f.endsWith('.d.ts'))).toEqual([]);
    const installed = JSON.parse(readFileSync(join(project, 'node_modules', '@evently', 'client', 'package.json'), 'utf8'));
    expect(Object.keys(installed.dependencies).sort()).toEqual(['socket.io-client', 'zod']);
  });

  it('When a strict consumer type-checks against it, then it compiles, and a wrong payload is refused', async () => {
    // (tsc over zod's and socket.io-client's declarations, skipLibCheck off: the slowest step, hence its own timeout)
    const tsconfig = { compilerOptions: { strict: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], noEmit: true, skipLibCheck: false } };
    // One compiler run over both files (it is the slow part): consumer.ts must be clean, bad.ts must not be.
    writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ ...tsconfig, files: ['consumer.ts', 'bad.ts'] }));
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    writeFileSync(join(project, 'bad.ts'), `import { EventlyClient } from '@evently/client';\nexport const h = new EventlyClient({ baseUrl: 'x' }).watch(1).send('hold:extend', { seatIds: [1] });\n`);
    const output = await run(process.execPath, [TSC, '-p', project], { cwd: project }).then(
      () => '',
      (err: { stdout: string }) => err.stdout,
    );
    const errors = output.split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors.filter((l) => !l.startsWith('bad.ts'))).toEqual([]);
    expect(errors).toEqual([expect.stringMatching(/^bad\.ts\(2,\d+\): error TS2353: .*seatIds/)]);
  }, 90_000);

  it("When the README's Node example runs against a server, then it signs in, sees its seat held live, and books it", async () => {
    const [user] = await createUsers(env, 1);
    writeFileSync(join(project, 'example.mjs'), readmeExample('node-example'));
    const { stdout } = await run(process.execPath, ['example.mjs'], {
      cwd: project,
      timeout: 30_000,
      env: { ...process.env, EVENTLY_URL: env.nodes[0]!.url, EVENTLY_EMAIL: user!.email, EVENTLY_PASSWORD: 'password-123', EVENTLY_EVENT_ID: String(event.eventId) },
    });
    expect(stdout).toMatch(/^seats \{ available: 15, held: 0, booked: 0, blocked: 0 \}$/m);
    const held = /^seat (\d+) is held in the live map until /m.exec(stdout);
    expect(held).not.toBeNull();
    const booked = /^booked (\S+): /m.exec(stdout);
    expect(booked).not.toBeNull();
    const row = await env.db('bookings').where({ reference: booked![1], user_id: user!.id, status: 'confirmed' }).first();
    expect(row).toBeDefined();
    const seat = await env.db('event_seats').where({ event_id: event.eventId, seat_id: Number(held![1]) }).first();
    expect(seat.status).toBe('booked');
  });

  it("When the README's browser example (an import map, no bundler) is opened on the server's site, then it shows the live counts and follows a hold", async () => {
    const own = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
    const [user] = await createUsers(env, 1);
    // The site: the page and the two modules from the installed package, as a static host would serve them, in
    // front of the real server (REST and the socket), as a reverse proxy would put them on one origin.
    const site = await startSiteProxy(env.nodes[0]!.url, (path) => {
      if (path === '/example.html') return { type: 'text/html; charset=utf-8', body: readmeExample('browser-example') };
      if (path.startsWith('/node_modules/')) return { type: 'text/javascript', body: readFileSync(join(project, path)) };
      return undefined;
    });
    const tb = await launchBrowser();
    try {
      const { page, errors } = await openContext(tb);
      const out = page.locator('#out');
      const logs: string[] = [];
      page.on('console', (m) => logs.push(m.text()));
      // On a timeout, say what the page printed (its connection state and errors).
      const shows = (text: string) =>
        out
          .filter({ hasText: text })
          .waitFor({ timeout: 15_000 })
          .catch(async (err: Error) => {
            throw new Error(`${err.message}\npage: ${await out.textContent()}\nconsole: ${logs.join(' | ')}\nerrors: ${errors.join(' | ')}`);
          });
      await page.goto(`${site.url}/example.html?event=${own.eventId}`);
      await shows('"available":4');
      const held = await http(site.url, 'POST', `/api/events/${own.eventId}/holds`, { token: user!.token, body: { seatIds: [own.seatIds[0]] } });
      expect(held.status).toBe(201);
      await shows('"available":3,"held":1');
      expect(errors).toEqual([]);
    } finally {
      await tb.close();
      await site.close();
    }
  });
});
