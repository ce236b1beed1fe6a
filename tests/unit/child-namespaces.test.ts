import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Namespace } from 'socket.io';
import { io as ioc, type Socket as ClientSocket } from 'socket.io-client';
import { manageChildNamespaces, type ChildNamespaces } from '../../server/realtime/child-namespaces';
import type { Logger } from '../../server/shared/logger';
import { until } from '../helpers/sockets';

/**
 * The Socket.IO internals child-namespaces.ts relies on, pinned against the installed version: if an upgrade
 * moves them, these fail before anything leaks in production.
 */
describe('manageChildNamespaces', () => {
  let http: HttpServer;
  let io: Server;
  let children: ChildNamespaces;
  let url: string;
  let warn: jest.Mock;
  /** Handshakes to /rooms/<id> wait on this gate when auth.wait is set; auth.refuse refuses them. */
  const gates: (() => void)[] = [];
  const clients: ClientSocket[] = [];
  beforeEach(async () => {
    http = createServer();
    io = new Server(http, { transports: ['websocket'], serveClient: false });
    const parent = io.of(/^\/rooms\/\d+$/);
    warn = jest.fn();
    children = manageChildNamespaces(io, parent, { warn } as unknown as Logger);
    parent.use(async (socket, next) => {
      const auth = socket.handshake.auth as { refuse?: boolean; wait?: boolean };
      if (auth.wait) await new Promise<void>((r) => gates.push(r));
      next(auth.refuse ? new Error('refused') : undefined);
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    io.close();
  });

  const client = (nsp: string, auth: Record<string, unknown>) => {
    const c = ioc(`${url}${nsp}`, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    clients.push(c);
    return c;
  };
  const refused = (c: ClientSocket) => new Promise<void>((r) => c.once('connect_error', () => r()));

  it('When a handshake is refused, then its child namespace is gone (and its adapter closed)', async () => {
    const base = children.count();
    const c = client('/rooms/1', { refuse: true });
    await refused(c);
    expect(children.count()).toBe(base);
    expect(children.list()).toEqual([]);
  });

  it('When a neighbour is refused while another handshake is in flight, then the namespace stays and the waiting client joins it', async () => {
    const waiting = client('/rooms/2', { wait: true });
    await until(() => gates.length === 1, 5000, 'first handshake in middleware');
    const nsp = children.get('/rooms/2');
    await refused(client('/rooms/2', { refuse: true }));
    expect(children.list()).toEqual([nsp]);
    gates.shift()!();
    await until(() => waiting.connected, 5000, 'waiting client connected');
    // Broadcasts through the namespace we hold reach it: it was not orphaned.
    const got = new Promise<string>((r) => waiting.on('hello', r));
    children.get('/rooms/2').emit('hello', 'there');
    expect(await got).toBe('there');
  });

  it('When the last socket leaves, then the namespace goes; get() makes a fresh one on demand', async () => {
    const c = client('/rooms/3', {});
    await until(() => c.connected, 5000, 'connected');
    const first: Namespace = children.get('/rooms/3');
    expect(first.sockets.size).toBe(1);
    c.close();
    await until(() => children.list().length === 0, 5000, 'namespace dropped');
    const again = children.get('/rooms/3');
    expect(again).not.toBe(first);
    expect(children.list()).toEqual([again]);
  });

  it('When code reaches a child through the public io.of(), then it is the managed child (listed, dropped once emptied)', async () => {
    const nsp = io.of('/rooms/4');
    expect(children.get('/rooms/4')).toBe(nsp);
    expect(children.list()).toEqual([nsp]);
    const c = client('/rooms/4', {});
    await until(() => c.connected, 5000, 'connected');
    c.close();
    await until(() => children.list().length === 0, 5000, 'namespace dropped');
    expect(io.of('/rooms/4')).not.toBe(nsp);
  });

  it('When closing an emptied namespace adapter fails, then it is logged once with the namespace', async () => {
    const nsp = children.get('/rooms/5');
    nsp.adapter.close = () => Promise.reject(new Error('redis gone'));
    await refused(client('/rooms/5', { refuse: true }));
    await until(() => warn.mock.calls.length === 1, 5000, 'close failure logged');
    expect(warn.mock.calls[0]![0]).toMatchObject({ namespace: '/rooms/5', err: expect.objectContaining({ message: 'redis gone' }) });
  });
});
