import { SharedDelivery, SnapshotLoader } from '../../server/realtime/snapshot-loader';

describe('SnapshotLoader', () => {
  it('makes a caller that arrives during a read wait for the next read', async () => {
    let reads = 0;
    const loader = new SnapshotLoader(async (k: number) => `${k}:${++reads}`);
    const [a, b] = await Promise.all([loader.get(1), loader.get(1)]);
    // The second caller arrived while the first read was in flight, so it waits for the next read.
    expect(a).toBe('1:1');
    expect(b).toBe('1:2');
    expect(reads).toBe(2);
  });

  it('never hands a latecomer a read that started before it asked', async () => {
    const started: number[] = [];
    const releases: (() => void)[] = [];
    let n = 0;
    const loader = new SnapshotLoader(
      (_k: string) =>
        new Promise<number>((resolve) => {
          const id = ++n;
          started.push(id);
          releases.push(() => resolve(id));
        }),
    );
    const first = loader.get('e');
    const late1 = loader.get('e');
    const late2 = loader.get('e');
    expect(started).toEqual([1]);
    releases[0]!();
    expect(await first).toBe(1);
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([1, 2]); // one more read for both latecomers
    releases[1]!();
    expect(await late1).toBe(2);
    expect(await late2).toBe(2);
  });

  it('recovers after a failed read', async () => {
    let fail = true;
    const loader = new SnapshotLoader(async () => {
      if (fail) throw new Error('db down');
      return 'ok';
    });
    await expect(loader.get('x')).rejects.toThrow('db down');
    fail = false;
    await expect(loader.get('x')).resolves.toBe('ok');
  });
});

describe('SharedDelivery', () => {
  it('sends each read once, to exactly the waiters that shared it', async () => {
    const releases: (() => void)[] = [];
    let n = 0;
    const loader = new SnapshotLoader(
      (_k: string) =>
        new Promise<number>((resolve) => {
          const id = ++n;
          releases.push(() => resolve(id));
        }),
    );
    const sent: [number, string[]][] = [];
    const delivery = new SharedDelivery(loader, (value: number, waiters: string[]) => sent.push([value, [...waiters]]));
    const a = delivery.deliver('e', 'a'); // starts read 1
    const b = delivery.deliver('e', 'b'); // arrived during read 1: waits for read 2
    const c = delivery.deliver('e', 'c');
    releases[0]!();
    await a;
    expect(sent).toEqual([[1, ['a']]]);
    await new Promise((r) => setImmediate(r));
    const d = delivery.deliver('e', 'd'); // arrived during read 2: read 3
    releases[1]!();
    await Promise.all([b, c]);
    expect(sent).toEqual([
      [1, ['a']],
      [2, ['b', 'c']],
    ]);
    await new Promise((r) => setImmediate(r));
    releases[2]!();
    await d;
    expect(sent[2]).toEqual([3, ['d']]);
    expect(n).toBe(3);
  });

  it('rejects every waiter of a failed read and sends nothing; the next read works', async () => {
    let fail = true;
    const sent: string[][] = [];
    const delivery = new SharedDelivery(
      new SnapshotLoader(async () => {
        if (fail) throw new Error('db down');
        return 'ok';
      }),
      (_v: string, waiters: string[]) => sent.push(waiters),
    );
    await expect(delivery.deliver('x', 'a')).rejects.toThrow('db down');
    fail = false;
    await delivery.deliver('x', 'b');
    expect(sent).toEqual([['b']]);
  });
});
