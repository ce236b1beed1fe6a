/**
 * One Evently node in a child process of the load generator (`--node-procs true`): its own event loop, heap and
 * descriptor table, so N nodes hold N x ~19,900 sockets where in-process nodes share one process's 20,000
 * descriptors (see load/README.md). Protocol over IPC: generator -> {type:'start', env}, {type:'stop'};
 * node -> {type:'ready', url}, {type:'error', message}.
 */
import { loadConfig } from '../server/config';
import { startNode, type EventlyNode } from '../server/node';
import { createLogger } from '../server/shared/logger';

let node: EventlyNode | undefined;

if (process.argv.includes('--load-node-process') && process.send) {
  const send = (m: unknown) => process.send!(m);
  // Orphaned (the generator died): nothing else would stop this node.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type: string; env?: Record<string, string> }) => {
    if (m.type === 'start' && m.env) {
      const config = loadConfig(m.env);
      startNode(config, { logger: createLogger(config.logLevel), skipMigrations: true }).then(
        (n) => {
          node = n;
          send({ type: 'ready', url: n.url });
        },
        (err: Error) => send({ type: 'error', message: err.stack ?? String(err) }),
      );
    } else if (m.type === 'stop') {
      void (node?.close() ?? Promise.resolve()).finally(() => process.exit(0));
    }
  });
}
