import type { Namespace, Server } from 'socket.io';
import type { Logger } from '../shared/logger';

/**
 * The only module that reaches into Socket.IO internals (4.8): the server's namespace map (`_nsps`, to forget a
 * dropped child and to count namespaces), a parent namespace's `createChild` (wrapped, to watch each child) and
 * `children` (to forget a dropped child), and a namespace's `_remove` / `_preConnectSockets`. Finding or creating a
 * child uses the public `io.of(name)`, which attaches a name the parent's regex matches to that parent. Kept small
 * and covered by tests/unit/child-namespaces.test.ts, so an upgrade that moves them fails there first.
 *
 * Why: Socket.IO creates a child namespace (and, with the Redis adapter, three Redis subscriptions for it) as soon
 * as a client asks for a name the parent's regex matches, BEFORE our handshake middleware runs; a refused handshake
 * leaves it behind. Its own `cleanupEmptyChildNamespaces` drops a child when its last socket leaves, but only
 * counts connected sockets, so it would also drop a namespace while another client's handshake is still in
 * flight there (that client would then join a namespace nobody broadcasts to).
 */

interface Internals {
  _nsps: Map<string, Namespace>;
}
interface ParentInternals {
  children: Set<Namespace>;
  createChild(name: string): Namespace;
}
interface ChildInternals {
  _remove(socket: unknown): void;
  _preConnectSockets: Map<string, unknown>;
  sockets: Map<string, unknown>;
}

/** Handle on a parent namespace's children: find or create one by name, list them, and drop empty ones. */
export interface ChildNamespaces<N extends Namespace = Namespace> {
  /** The child named `name`, created (and kept until a socket came and went) if there is none. */
  get(name: string): N;
  /** The child named `name` if this node has it (a socket is, or was, there), without creating one. */
  find(name: string): N | undefined;
  list(): N[];
  /** How many namespaces the server holds (children and others): what a leak would grow. */
  count(): number;
}

/**
 * Makes every child of `parent` go away (adapter closed: its Redis subscriptions end) once no socket is connected
 * to it and none is mid-handshake: after the last disconnect and after every refused or abandoned handshake
 * (Socket.IO removes a refused socket through `_remove` too). Call once, before any client connects.
 */
export function manageChildNamespaces<N extends Namespace>(io: Server, parent: Namespace, logger?: Logger): ChildNamespaces<N> {
  const nsps = (io as unknown as Internals)._nsps;
  const p = parent as unknown as ParentInternals;
  const drop = (nsp: Namespace) => {
    if (nsps.get(nsp.name) !== nsp) return;
    nsps.delete(nsp.name);
    p.children.delete(nsp);
    live.delete(nsp);
    // Closing ends the adapter's Redis subscriptions; a failure leaves them to the connection's own cleanup.
    void Promise.resolve(nsp.adapter.close()).catch((err: unknown) => logger?.warn({ err, namespace: nsp.name }, 'closing an emptied namespace adapter failed'));
  };
  /** The children this handle made and has not dropped: our own list, not the parent's internal set. */
  const live = new Set<Namespace>();
  const createChild = p.createChild.bind(parent);
  p.createChild = (name: string): Namespace => {
    const nsp = createChild(name);
    live.add(nsp);
    const child = nsp as unknown as ChildInternals;
    const remove = child._remove.bind(nsp);
    child._remove = (socket: unknown) => {
      remove(socket);
      if (child.sockets.size === 0 && child._preConnectSockets.size === 0) drop(nsp);
    };
    return nsp;
  };
  return {
    // Public API: io.of() returns the namespace if it exists, else has the parent whose regex matches the name
    // create the child (through the wrapper above).
    get: (name) => io.of(name) as N,
    find: (name) => {
      const nsp = nsps.get(name);
      return nsp && live.has(nsp) ? (nsp as N) : undefined;
    },
    list: () => [...live] as N[],
    count: () => nsps.size,
  };
}
