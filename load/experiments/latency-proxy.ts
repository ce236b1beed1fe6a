/**
 * A TCP proxy that delays every chunk by `DELAY_MS` in each direction, to see what a database across a network
 * costs (this machine's MariaDB is on loopback, ~0.1 ms a round trip): `PORT=3307 TARGET=3306 DELAY_MS=1 npx tsx
 * load/experiments/latency-proxy.ts`, then point the code at port 3307 (e.g. `TEST_MYSQL_URL=mysql://root@127.0.0.1:3307
 * npx tsx load/experiments/batch-profile.ts`). Node timers have 1 ms granularity, so 1 ms is the smallest delay;
 * chunks of one direction keep their order (timers of equal delay fire in the order they were set).
 */
import net from 'node:net';

const port = Number(process.env.PORT ?? 3307);
const target = Number(process.env.TARGET ?? 3306);
const delayMs = Number(process.env.DELAY_MS ?? 1);

const later = (to: net.Socket) => (chunk: Buffer) => setTimeout(() => to.destroyed || to.write(chunk), delayMs);
net
  .createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.on('data', later(upstream));
    upstream.on('data', later(client));
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  })
  .listen(port, '127.0.0.1', () => console.log(`delaying 127.0.0.1:${port} -> ${target} by ${delayMs} ms each way`));
