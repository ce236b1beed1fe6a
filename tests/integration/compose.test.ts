import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../server/config';
import { createUsers, seedEvent, startTestEnv, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { mysqlDialects, describeEach } from '../helpers/dialects';
import { send } from '../helpers/sockets';
import { io as ioc } from 'socket.io-client';
import type { SeatsSnapshot } from '../../packages/client/src';
import { freePort } from '../fault/procs';

/**
 * The production shape, without a Docker engine: docker-compose.yml and the Dockerfile are checked for
 * structure (and the app's environment is fed to the real config loader), deploy/nginx.conf passes
 * `nginx -t`, and a real nginx with that configuration fronts two test nodes (WebSocket and long-polling).
 */
const ROOT = resolve(__dirname, '../..');
const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => existsSync(p));
const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as any;
const nginxConf = readFileSync(join(ROOT, 'deploy/nginx.conf'), 'utf8');

/** Compose variable substitution: ${X:-default} takes the default, ${X:?msg} takes `required[X]`. */
function substitute(value: string, required: Record<string, string>): string {
  return value.replace(/\$\{([A-Z_]+)(?::([-?])([^}]*))?\}/g, (_m, name: string, op?: string, arg?: string) => {
    if (op === '-') return arg ?? '';
    if (name in required) return required[name]!;
    throw new Error(`compose needs ${name} (${arg ?? ''})`);
  });
}

const appServices = () => Object.entries(compose.services as Record<string, any>).filter(([, s]) => s.image === 'evently:latest' && !s.command);

describe('docker-compose.yml', () => {
  test('MySQL 8, Redis 7, a migrate job, two app nodes and nginx in front', () => {
    const s = compose.services;
    expect(s.mysql.image).toMatch(/^mysql:8(\.|$)/);
    expect(s.redis.image).toMatch(/^redis:7(\.|-|$)/);
    expect(s.nginx.image).toMatch(/^nginx:/);
    expect(s.migrate.command).toEqual(['node', 'dist/server/entry/cli/migrate.js']);
    expect(s.migrate.depends_on.mysql.condition).toBe('service_healthy');
    const apps = appServices();
    expect(apps.map(([name]) => name).sort()).toEqual(['app1', 'app2']);
    for (const [, app] of apps) {
      expect(app.build).toBe('.');
      expect(app.depends_on).toEqual({
        mysql: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        migrate: { condition: 'service_completed_successfully' },
      });
      expect(app.healthcheck.test.join(' ')).toContain('/readyz');
      expect(app.restart).toBe('unless-stopped');
      // Longer than entry/main.ts's 25 s forced exit, so a graceful stop is never SIGKILLed halfway.
      expect(parseInt(app.stop_grace_period, 10)).toBeGreaterThan(25);
      expect(app.ports).toBeUndefined(); // only nginx is published
    }
    expect(s.nginx.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
    expect(s.nginx.ports.some((p: string) => /:80$/.test(p))).toBe(true);
    expect(Object.keys(s.nginx.depends_on).sort()).toEqual(['app1', 'app2']);
    expect(s.mysql.healthcheck && s.redis.healthcheck).toBeTruthy();
  });

  test("every app node's environment is a valid production configuration for the real loader", () => {
    for (const [name, app] of appServices()) {
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(app.environment as Record<string, string>)) env[k] = substitute(String(v), { JWT_SECRET: 'x'.repeat(48) });
      const config = loadConfig(env);
      expect({ name, db: config.database.client, redis: config.redisUrl, env: config.env, proxy: config.trustProxy }).toEqual({
        name,
        db: 'mysql2',
        redis: 'redis://redis:6379',
        env: 'production',
        proxy: true,
      });
      expect(config.database.client === 'mysql2' && new URL(config.database.url).host).toBe('mysql:3306');
      // Without JWT_SECRET compose refuses to start instead of running with a guessable secret.
      expect(() => substitute(String(app.environment.JWT_SECRET), {})).toThrow(/JWT_SECRET/);
    }
  });

  test('Dockerfile: multi-stage, npm ci, npm run build, runs node dist/server/entry/main.js as a non-root user', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    const froms = dockerfile.match(/^FROM\s+\S+(\s+AS\s+\S+)?/gim) ?? [];
    expect(froms.length).toBeGreaterThanOrEqual(2);
    expect(dockerfile).toMatch(/^RUN npm ci\b/m);
    expect(dockerfile).toMatch(/npm run build/);
    expect(dockerfile).toMatch(/^COPY --from=build\b/m);
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "dist\/server\/entry\/main\.js"\]$/m);
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', '.git', 'dist', '.env']) expect(ignore).toContain(p);
    // The build stage's scripts exist.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.scripts.build).toBeTruthy();
    expect(existsSync(join(ROOT, 'server/entry/cli/migrate.ts'))).toBe(true);
  });

  test('nginx upstream lists exactly the app nodes, ip_hash for polling, WebSocket upgrade headers', () => {
    const upstream = /upstream evently \{([^}]*)\}/.exec(nginxConf)![1]!;
    expect(upstream).toMatch(/^\s*ip_hash;/m);
    const servers = [...upstream.matchAll(/^\s*server\s+([^\s;]+)/gm)].map((m) => m[1]);
    expect(servers.sort()).toEqual(appServices().map(([n]) => `${n}:3000`).sort());
    const sio = /location \/socket\.io\/ \{([^}]*)\}/.exec(nginxConf)![1]!;
    expect(sio).toMatch(/proxy_http_version 1\.1;/);
    expect(sio).toMatch(/proxy_set_header Upgrade \$http_upgrade;/);
    expect(sio).toMatch(/proxy_set_header Connection \$connection_upgrade;/);
  });
});

/** deploy/nginx.conf with the compose host names pointed at local ports and writable temp paths. */
function localNginxConf(dir: string, listen: number, upstreams: number[]): string {
  let conf = nginxConf.replace(/listen 80;/, `listen 127.0.0.1:${listen};`);
  conf = conf.replace(/server app1:3000/, `server 127.0.0.1:${upstreams[0]}`).replace(/server app2:3000/, `server 127.0.0.1:${upstreams[1]}`);
  conf = conf.replace('access_log /var/log/nginx/access.log evently;', `access_log ${join(dir, 'access.log')} evently;`);
  conf = conf.replace(/^events \{/m, `pid ${join(dir, 'nginx.pid')};\nerror_log ${join(dir, 'error.log')};\n\nevents {`);
  conf = conf.replace(/^http \{/m, `http {\n    client_body_temp_path ${dir}/body;\n    proxy_temp_path ${dir}/proxy;\n    fastcgi_temp_path ${dir}/fastcgi;\n    uwsgi_temp_path ${dir}/uwsgi;\n    scgi_temp_path ${dir}/scgi;`);
  return conf;
}

describe('deploy/nginx.conf with Debian nginx', () => {
  test('nginx is installed (.ci/extra-packages-ops.sh installs it: apt-get install nginx-light)', () => {
    expect(NGINX).toBeDefined();
  });

  test('nginx -t accepts it (compose host names mapped to loopback, since nginx resolves them at load)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'evently-nginx-'));
    try {
      writeFileSync(join(dir, 'nginx.conf'), localNginxConf(dir, 18080, [13001, 13002]));
      const out = execFileSync(NGINX!, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describeEach(mysqlDialects(), 'in front of two nodes on one Redis (%s)', (dialect) => {
    let env: TestEnv;
    let nginx: ChildProcess;
    let dir: string;
    let front: string;
    beforeAll(async () => {
      env = await startTestEnv({ dialect, nodes: 2, redis: true, env: { TRUST_PROXY: 'true' } });
      dir = mkdtempSync(join(tmpdir(), 'evently-nginx-'));
      const port = await freePort();
      writeFileSync(join(dir, 'nginx.conf'), localNginxConf(dir, port, env.nodes.map((n) => n.port)));
      nginx = spawn(NGINX!, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
      front = `http://127.0.0.1:${port}`;
      const deadline = Date.now() + 10000;
      while ((await http(front, 'GET', '/healthz').catch(() => ({ status: 0 }))).status !== 200) {
        if (Date.now() > deadline) throw new Error(`nginx did not come up: ${existsSync(join(dir, 'error.log')) ? readFileSync(join(dir, 'error.log'), 'utf8') : ''}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    });
    afterAll(async () => {
      nginx?.kill('SIGQUIT');
      await env?.stop();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('REST, request ids and a hidden /metrics through the proxy', async () => {
      const ready = await http(front, 'GET', '/readyz');
      expect(ready.status).toBe(200);
      expect(ready.headers.get('x-request-id')).toMatch(/^[0-9a-f]{32}$/); // nginx's $request_id, kept by the app
      expect((await http(front, 'GET', '/metrics')).status).toBe(403);
    });

    test.each([['websocket'], ['polling']])('Socket.IO over %s: snapshot, then an acknowledged hold', async (transport) => {
      const [user] = await createUsers(env, 1);
      const ev = await seedEvent(env, { rows: 1, seatsPerRow: 4 });
      const socket = ioc(`${front}/events/${ev.eventId}`, { auth: { token: user!.token }, transports: [transport], reconnection: false, forceNew: true, upgrade: false }) as any;
      try {
        const snapshot = await new Promise<SeatsSnapshot>((res, rej) => {
          socket.on('seats:snapshot', res);
          socket.on('connect_error', rej);
        });
        expect(snapshot.seats).toHaveLength(4);
        expect(socket.io.engine.transport.name).toBe(transport);
        const ack = await send(socket, 'seat:hold', { seatIds: [ev.seatIds[0]!] });
        expect(ack.ok).toBe(true);
        const row = await env.db('event_seats').where({ event_id: ev.eventId, seat_id: ev.seatIds[0] }).first('status');
        expect(row.status).toBe('held');
      } finally {
        socket.close();
      }
    });
  });
});
