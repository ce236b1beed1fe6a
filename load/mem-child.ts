/**
 * A server in its own process so its memory can be sampled apart from the load generator's clients.
 * `bare`: an idle Socket.IO server that accepts connections into a room and does nothing else.
 * `evently`: one Evently node (startNode) on DATABASE_URL, for LOAD_EVENT_ID. Talks to the parent over IPC:
 * sends {type:'ready', url, eventId}; answers {type:'sample'} with memoryUsage after a forced GC and
 * {type:'heapsnapshot', path} by writing a V8 heap snapshot there (load/heap-breakdown.ts); exits on {type:'stop'}.
 */
import { createServer } from 'node:http';
import { writeHeapSnapshot } from 'node:v8';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { loadConfig } from '../server/config';
import { startNode } from '../server/entry/node';

async function main(): Promise<void> {
  const kind = process.argv[2];
  let url: string;
  let stop: () => Promise<void>;
  if (kind === 'bare') {
    const http = createServer();
    const io = new Server(http, { transports: ['websocket'], serveClient: false });
    io.of(/^\/events\/\d+$/).on('connection', (s) => void s.join('event'));
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    stop = async () => {
      io.close();
    };
  } else {
    const node = await startNode(loadConfig({ ...process.env, HOST: '127.0.0.1', PORT: '0' }), { skipMigrations: true });
    url = node.url;
    stop = () => node.close();
  }
  process.on('message', async (m: { type: string; seq?: number; path?: string }) => {
    if (m.type === 'sample') {
      const g = (globalThis as { gc?: () => void }).gc;
      g?.();
      g?.();
      const u = process.memoryUsage();
      process.send!({ type: 'sample', seq: m.seq, heapUsed: u.heapUsed, external: u.external, rss: u.rss });
    } else if (m.type === 'heapsnapshot' && m.path) {
      // A snapshot only holds live objects: no GC needed first, V8 collects before writing it.
      process.send!({ type: 'heapsnapshot', seq: m.seq, path: writeHeapSnapshot(m.path) });
    } else if (m.type === 'stop') {
      await stop().catch(() => undefined);
      process.exit(0);
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.send!({ type: 'ready', url, eventId: Number(process.env.LOAD_EVENT_ID ?? 1) });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
