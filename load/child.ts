/** What the generator's child processes (nodes, bare nodes, client processes) share: how they start and stop. */
import type { ChildProcess } from 'node:child_process';

/**
 * A child's execArgv: TypeScript through tsx, and V8's CPU profiler when the environment variable `profileEnv`
 * (LOAD_NODE_CPU_PROF, LOAD_CLIENT_CPU_PROF) names a directory. The profile is written when the child exits on
 * its own, which is why stopChild asks before it kills.
 */
export function childExecArgv(profileEnv: string): string[] {
  const dir = process.env[profileEnv];
  return ['--import', 'tsx', ...(dir ? ['--cpu-prof', '--cpu-prof-dir', dir] : [])];
}

/**
 * Asks a child to exit (`ask`; default: close the IPC channel, on which the load children exit), waits for it,
 * and kills it with `signal` if it has not exited after `killAfterMs`.
 */
export async function stopChild(
  child: ChildProcess,
  exited: Promise<void>,
  o: { ask?: () => void; killAfterMs?: number; signal?: NodeJS.Signals } = {},
): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  if (child.connected) (o.ask ?? (() => child.disconnect()))();
  const killer = setTimeout(() => child.kill(o.signal), o.killAfterMs ?? 5000);
  await exited;
  clearTimeout(killer);
}
