import { ConfigError, loadConfig, type Config } from '../config';
import { startNode } from './node';
import { DEMO_ACCOUNTS, seedDemo } from './seed/demo';
import { createLogger } from '../shared/logger';

/** The process: parse configuration once, start a node, seed the demo when asked, stop gracefully. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  // Every background task logs its own failures with context; this catches the one that forgot, so it shows in
  // the structured log (with the stack) instead of as a bare stderr line. The node keeps serving: a lost promise
  // is a bug to fix, not a reason to drop every client's connection.
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: reason }, 'unhandled promise rejection (a background task without its own error handling)');
  });
  const node = await startNode(config, { logger });

  if (config.seedDemo) {
    const result = await seedDemo(node.services, node.clock, async () => {
      const [{ n }] = (await node.db('users').count({ n: '*' })) as [{ n: number | string }];
      return Number(n);
    });
    if (result.seeded) logger.info({ eventId: result.eventId }, 'seeded demo venue, event and accounts');
  }

  const publicUrl = `http://localhost:${node.port}`;
  const lines = [
    '',
    `  Evently is running at ${publicUrl}`,
    `  Database: ${config.database.client === 'mysql2' ? 'MySQL/MariaDB' : `SQLite (${config.database.filename})`}; ${config.redisClusterNodes ? 'Redis Cluster (sharded adapter)' : config.redisUrl ? 'Redis adapter' : 'in-process adapter'}`,
    `  API docs: ${publicUrl}/docs`,
  ];
  if (config.seedDemo) {
    lines.push('  Demo accounts (development only):');
    for (const a of DEMO_ACCOUNTS) lines.push(`    ${a.role.padEnd(10)} ${a.email.padEnd(24)} ${a.password}`);
  }
  process.stdout.write(`${lines.join('\n')}\n\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took too long; exiting');
      process.exit(1);
    }, 25_000);
    force.unref();
    node.close().then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(`Evently failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
