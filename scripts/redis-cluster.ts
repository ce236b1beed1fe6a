import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A throw-away Redis Cluster on loopback for tests and load runs: `redis-server --cluster-enabled yes` processes
 * in a temp directory, joined with `redis-cli --cluster create … --cluster-replicas N --cluster-yes`. Ports
 * (client and cluster bus) are asked of the OS, so a busy port or a second cluster on the machine is no
 * problem. Needs Debian's redis-server and redis-cli (Redis 7 for sharded pub/sub); `.ci/run` installs them.
 */
export interface LocalRedisCluster {
  /** Client ports of every node, masters first as created. */
  ports: number[];
  /** REDIS_CLUSTER_NODES value: every node as host:port. */
  seeds: string;
  /** Port of the master serving `slot` right now (asked of a live node). */
  masterOfSlot(slot: number): Promise<number>;
  /** Ports of the replicas of the master on `masterPort`. */
  replicasOf(masterPort: number): Promise<number[]>;
  /** Hash slot of a key or sharded channel name, as the cluster computes it. */
  keySlot(key: string): Promise<number>;
  /** Resolves with the port of the live master serving `slot` once it is not `oldPort` (after a failover). */
  waitForFailover(slot: number, oldPort: number, timeoutMs?: number): Promise<number>;
  /** Ends one node's process (SIGKILL: a crash) and waits for it to go. */
  kill(port: number): Promise<void>;
  /** Starts a killed node again with its old identity (it rejoins, as a replica if it was failed over). */
  restart(port: number): Promise<void>;
  /** Resolves once every live node says cluster_state:ok and every slot has a live master. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /**
   * Resolves once every master serving slots has its replicas again, each in sync: after a killed node is
   * restarted, it rejoins as a replica only when gossip tells it, some time after the cluster is healthy.
   */
  waitReplicated(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  masters?: number;
  replicasPerMaster?: number;
  /** cluster-node-timeout: how long a master may be silent before its replica takes over. */
  nodeTimeoutMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on loopback (bound then released); also used by the fault suite's process helpers. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

/** Runs redis-cli against one node; rejects on a non-zero exit or after `timeoutMs`. */
export function redisCli(port: number, args: string[], timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

interface NodeProc {
  port: number;
  busPort: number;
  dir: string;
  proc?: ChildProcess;
}

/** Starts a local cluster (default 3 masters + 3 replicas, 2 s node timeout) and waits until it serves every slot. */
export async function startRedisCluster(opts: RedisClusterOptions = {}): Promise<LocalRedisCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicasPerMaster ?? 1;
  const nodeTimeout = opts.nodeTimeoutMs ?? 2000;
  const root = mkdtempSync(join(tmpdir(), 'evently-redis-cluster-'));
  const nodes: NodeProc[] = [];

  const launch = async (n: NodeProc): Promise<void> => {
    const proc = spawn(
      'redis-server',
      [
        '--port', String(n.port),
        '--cluster-port', String(n.busPort),
        '--bind', '127.0.0.1',
        '--cluster-enabled', 'yes',
        // nodes.conf in the node's own directory: a restarted node keeps its identity and rejoins.
        '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(nodeTimeout),
        // A replica always may take over, however long it was cut off (the data is all disposable).
        '--cluster-replica-validity-factor', '0',
        '--dir', n.dir,
        '--save', '',
        '--appendonly', 'no',
        '--protected-mode', 'no',
      ],
      { stdio: 'ignore' },
    );
    n.proc = proc;
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (proc.exitCode !== null || proc.signalCode !== null) throw new Error(`redis-server on ${n.port} exited (${proc.exitCode ?? proc.signalCode})`);
      if ((await redisCli(n.port, ['ping'], 1000).catch(() => '')).trim() === 'PONG') return;
      if (Date.now() > deadline) throw new Error(`redis-server on ${n.port} did not answer`);
      await sleep(50);
    }
  };

  // If the owning process exits without stop() (an uncaught error, process.exit in a failed run), take the
  // redis-servers with it; otherwise they outlive it and keep their ports. A SIGKILLed owner still leaks them.
  const killOnExit = () => {
    for (const n of nodes) n.proc?.kill('SIGKILL');
    rmSync(root, { recursive: true, force: true });
  };
  process.once('exit', killOnExit);
  const stop = async (): Promise<void> => {
    process.removeListener('exit', killOnExit);
    await Promise.all(nodes.map((n) => killProc(n)));
    rmSync(root, { recursive: true, force: true });
  };

  try {
    for (let i = 0; i < masters * (1 + replicas); i++) {
      // A port taken between asking and binding (another engineer's process) just means: ask again.
      for (let attempt = 0; ; attempt++) {
        const n: NodeProc = { port: await freePort(), busPort: await freePort(), dir: '' };
        n.dir = join(root, String(n.port));
        mkdirSync(n.dir);
        try {
          await launch(n);
          nodes.push(n);
          break;
        } catch (err) {
          await killProc(n);
          if (attempt >= 3) throw err;
        }
      }
    }
    const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
    await redisCli(nodes[0]!.port, ['--cluster', 'create', ...addrs, '--cluster-replicas', String(replicas), '--cluster-yes'], 60_000);
  } catch (err) {
    await stop();
    throw err;
  }

  const live = () => nodes.filter((n) => n.proc && n.proc.exitCode === null && n.proc.signalCode === null);
  /** CLUSTER NODES from the first live node that answers. */
  const clusterNodes = async (): Promise<string> => {
    for (const n of live()) {
      const out = await redisCli(n.port, ['cluster', 'nodes'], 2000).catch(() => '');
      if (out) return out;
    }
    throw new Error('no live cluster node answers');
  };

  const self: LocalRedisCluster = {
    ports: nodes.map((n) => n.port),
    seeds: nodes.map((n) => `127.0.0.1:${n.port}`).join(','),
    masterOfSlot: async (slot) => {
      for (const line of (await clusterNodes()).split('\n')) {
        const [, addr, flags, , , , , state, ...ranges] = line.split(' ');
        if (!flags?.includes('master') || flags.includes('fail') || state !== 'connected') continue;
        for (const r of ranges) {
          const [lo, hi] = r.split('-').map(Number);
          if (slot >= lo! && slot <= (hi ?? lo)!) return Number(addr!.split('@')[0]!.split(':')[1]);
        }
      }
      throw new Error(`no live master serves slot ${slot}`);
    },
    replicasOf: async (masterPort) => {
      const lines = (await clusterNodes()).split('\n').map((l) => l.split(' '));
      const portOf = (addr: string) => Number(addr.split('@')[0]!.split(':')[1]);
      const masterId = lines.find((l) => l[1] && portOf(l[1]) === masterPort)?.[0];
      return lines.filter((l) => l[2]?.includes('slave') && l[3] === masterId).map((l) => portOf(l[1]!));
    },
    waitForFailover: async (slot, oldPort, timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const port = await self.masterOfSlot(slot).catch(() => undefined);
        if (port !== undefined && port !== oldPort) return port;
        if (Date.now() > deadline) throw new Error(`slot ${slot} did not fail over from ${oldPort} within ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    keySlot: async (key) => Number((await redisCli(live()[0]!.port, ['cluster', 'keyslot', key])).trim()),
    kill: async (port) => killProc(nodeAt(nodes, port)),
    restart: async (port) => launch(nodeAt(nodes, port)),
    waitHealthy: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const infos = await Promise.all(live().map((n) => redisCli(n.port, ['cluster', 'info'], 2000).catch(() => '')));
        const ok = infos.every((i) => i.includes('cluster_state:ok') && i.includes('cluster_slots_ok:16384'));
        if (ok && infos.length > 0) return;
        if (Date.now() > deadline) throw new Error(`redis cluster not healthy after ${timeoutMs} ms: ${infos.map((i) => /cluster_state:\w+/.exec(i)?.[0]).join(', ')}`);
        await sleep(100);
      }
    },
    waitReplicated: async (timeoutMs = 30_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const lines = (await clusterNodes().catch(() => '')).split('\n').map((l) => l.split(' '));
        const serving = lines.filter((l) => l[2]?.includes('master') && !l[2].includes('fail') && l.slice(8).some((r) => r.length > 0));
        const replicated = serving.length > 0 && serving.every((m) => lines.filter((l) => l[2]?.includes('slave') && !l[2].includes('fail') && l[3] === m[0]).length >= replicas);
        if (replicated) {
          await waitReplicasInSync(live().map((n) => n.port), replicas > 0, Math.max(1000, deadline - Date.now()));
          return;
        }
        if (Date.now() > deadline) throw new Error(`redis cluster: a master serving slots has fewer than ${replicas} replicas after ${timeoutMs} ms`);
        await sleep(100);
      }
    },
    stop,
  };
  await self.waitHealthy();
  await waitReplicasInSync(live().map((n) => n.port), replicas > 0);
  return self;
}

function nodeAt(nodes: NodeProc[], port: number): NodeProc {
  const n = nodes.find((x) => x.port === port);
  if (!n) throw new Error(`no cluster node on port ${port}`);
  return n;
}

async function killProc(n: NodeProc): Promise<void> {
  const p = n.proc;
  n.proc = undefined;
  if (!p || p.exitCode !== null || p.signalCode !== null) return;
  const gone = new Promise<void>((r) => p.once('exit', () => r()));
  p.kill('SIGKILL');
  await gone;
}

/** Every replica has finished its first sync: until then a failover could not promote it. */
async function waitReplicasInSync(ports: number[], expectReplicas: boolean, timeoutMs = 30_000): Promise<void> {
  if (!expectReplicas) return;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(ports.map((p) => redisCli(p, ['info', 'replication'], 2000).catch(() => '')));
    const replicas = infos.filter((i) => i.includes('role:slave'));
    if (replicas.length > 0 && replicas.every((i) => i.includes('master_link_status:up'))) return;
    if (Date.now() > deadline) throw new Error(`redis cluster replicas did not sync within ${timeoutMs} ms`);
    await sleep(100);
  }
}
