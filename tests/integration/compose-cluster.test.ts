import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { loadConfig } from '../../server/config';

/**
 * docker-compose.cluster.yml (the Redis Cluster variant), without a Docker engine: structure, the app's
 * environment through the real config loader, and the init job's shell script parsed by sh.
 */
const ROOT = resolve(__dirname, '../..');
const compose = parse(readFileSync(join(ROOT, 'docker-compose.cluster.yml'), 'utf8'), { merge: true }) as any;
const services = compose.services as Record<string, any>;
const appServices = () => Object.entries(services).filter(([, s]) => s.image === 'evently:latest' && !s.command);
const redisNodes = () => Object.keys(services).filter((n) => /^redis-\d$/.test(n));

describe('docker-compose.cluster.yml', () => {
  test('six Redis 7 cluster nodes, each with its own volume for nodes.conf, and a one-shot init job', () => {
    expect(redisNodes()).toHaveLength(6);
    for (const name of redisNodes()) {
      const s = services[name];
      expect(s.image).toMatch(/^redis:7(\.|-|$)/);
      expect(s.hostname).toBe(name);
      expect(s.command.join(' ')).toMatch(/--cluster-enabled yes .*--cluster-config-file \/data\/nodes\.conf/);
      expect(s.volumes).toEqual([`${name}:/data`]);
      expect(s.healthcheck).toBeTruthy();
    }
    const init = services['redis-cluster-init'];
    expect(Object.keys(init.depends_on).sort()).toEqual(redisNodes().sort());
    expect(init.restart).toBe('no');
    const script = init.command[2] as string;
    expect(script).toMatch(/redis-cli --cluster create .* --cluster-replicas 1 --cluster-yes/);
    // Compose turns $$ into $ before the shell sees it.
    execFileSync('sh', ['-n', '-c', script.replace(/\$\$/g, '$')]);
  });

  test('app nodes use REDIS_CLUSTER_NODES (never REDIS_URL), wait for the init job, and load as a valid configuration', () => {
    const apps = appServices();
    expect(apps.map(([n]) => n).sort()).toEqual(['app1', 'app2']);
    expect(services.redis).toBeUndefined();
    for (const [name, app] of apps) {
      expect(app.depends_on['redis-cluster-init']).toEqual({ condition: 'service_completed_successfully' });
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(app.environment as Record<string, string>)) env[k] = String(v).replace(/\$\{JWT_SECRET:\?[^}]*\}/, 'x'.repeat(48)).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
      const config = loadConfig(env);
      expect({ name, redisUrl: config.redisUrl, nodes: config.redisClusterNodes?.map((n) => `${n.host}:${n.port}`) }).toEqual({
        name,
        redisUrl: undefined,
        nodes: ['redis-1:6379', 'redis-2:6379', 'redis-3:6379'],
      });
    }
  });
});
