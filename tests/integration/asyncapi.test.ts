import Ajv from 'ajv';
import { randomUUID } from 'node:crypto';
import { serverEvents, socketCommands } from '../../server/contracts/socket-catalog';
import { createUsers, seedEvent, startTestEnv, type SeededEvent, type TestEnv } from '../helpers/env';
import { http } from '../helpers/http';
import { send, watch } from '../helpers/sockets';

/**
 * Issue 14, item 4: the AsyncAPI document the server serves at /asyncapi.json is a valid AsyncAPI 3.0.0 document
 * (the official JSON Schema of the `@asyncapi/specs` package, compiled with ajv), lists every command (with its
 * ack as the reply) and every server event of the socket catalog, and its message schemas accept what a real
 * server sends. A broken document is rejected, so the validity check can fail.
 */
// The official schema of AsyncAPI 3.0.0 (JSON Schema draft-07), in the form with local `#/definitions/…` refs
// (as @asyncapi/parser uses it): the form with $ids embeds its own copy of the draft-07 meta-schema, whose $id
// clashes with the one ajv already knows.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const specs = require('@asyncapi/specs') as { schemasWithoutId: Record<string, object> };

type Doc = {
  asyncapi: string;
  channels: Record<string, { address: string; messages: Record<string, unknown> }>;
  operations: Record<string, { action: string; title: string; reply?: unknown }>;
  components: { messages: Record<string, { name: string; payload: object }>; schemas: Record<string, object> };
};

/** A validator of documents against the official AsyncAPI 3.0.0 schema. */
function asyncApiValidator() {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  return ajv.compile(specs.schemasWithoutId['3.0.0']!);
}

describe('AsyncAPI document of the socket protocol', () => {
  let env: TestEnv;
  let url: string;
  let doc: Doc;
  let event: SeededEvent;

  beforeAll(async () => {
    env = await startTestEnv({ dialect: 'sqlite', sweeper: false });
    url = env.nodes[0]!.url;
    event = await seedEvent(env, { rows: 2, seatsPerRow: 4 });
    const res = await http(url, 'GET', '/asyncapi.json');
    expect(res.status).toBe(200);
    doc = res.body;
  });
  afterAll(() => env.stop());

  it('When /asyncapi.json is validated against the official AsyncAPI 3.0.0 schema, then it is valid', () => {
    const validate = asyncApiValidator();
    const valid = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
    expect(doc.asyncapi).toBe('3.0.0');
  });

  it('When a document is broken (an AsyncAPI 2 style operation, a channel without its address type), then the schema rejects it', () => {
    const validate = asyncApiValidator();
    const publish = structuredClone(doc);
    publish.operations['seat.hold']!.action = 'publish';
    expect(validate(publish)).toBe(false);
    const badAddress = structuredClone(doc) as unknown as { channels: { event: { address: unknown } } };
    badAddress.channels.event.address = 42;
    expect(validate(badAddress)).toBe(false);
    const noVersion = structuredClone(doc) as Partial<Doc>;
    delete noVersion.asyncapi;
    expect(validate(noVersion)).toBe(false);
  });

  it('When its operations are listed, then every command is a send with its ack as reply and every server event a receive', () => {
    expect(doc.channels.event!.address).toBe('/events/{eventId}');
    const sends = Object.values(doc.operations).filter((o) => o.action === 'send');
    const receives = Object.values(doc.operations).filter((o) => o.action === 'receive');
    expect(sends.map((o) => o.title).sort()).toEqual(Object.keys(socketCommands).sort());
    expect(receives.map((o) => o.title).sort()).toEqual(Object.keys(serverEvents).sort());
    for (const op of sends) expect(op.reply).toBeDefined();
    expect(doc.components.schemas.HandshakeAuth).toMatchObject({ properties: { token: {}, cursor: {}, format: { enum: ['json', 'compact'] } } });
  });

  it("When a real client holds a seat and is refused another, then the snapshot, both acks and the change batch match the document's schemas", async () => {
    // The document as one schema, so a message payload's $ref to #/components/schemas/Error resolves.
    const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
    ajv.addSchema(doc, 'asyncapi');
    const check = (message: string, value: unknown) => {
      const validate = ajv.getSchema(`asyncapi#/components/messages/${message}/payload`);
      if (!validate) throw new Error(`no message ${message} in the document`);
      if (!validate(value)) throw new Error(`${message} does not match the document: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(value)}`);
    };
    const [alice] = await createUsers(env, 1);
    const w = watch(url, event.eventId, { token: alice!.token });
    let snapshot: unknown;
    let batch: unknown;
    w.socket.on('seats:snapshot', (s) => (snapshot ??= s));
    const changed = new Promise<void>((resolve) =>
      w.socket.on('seats:changed', (b) => {
        batch = b;
        resolve();
      }),
    );
    try {
      await w.ready;
      const seatId = event.seatIds[0]!;
      const held = await send(w.socket, 'seat:hold', { seatIds: [seatId] });
      const refused = await send(w.socket, 'seat:hold', { seatIds: [seatId] });
      await changed;
      check('seats.snapshot', snapshot);
      check('seat.hold.ack', held);
      check('seat.hold.ack', refused);
      expect(refused).toMatchObject({ ok: false, error: { code: 'SEAT_UNAVAILABLE' } });
      check('seats.changed', batch);
      if (!held.ok) throw new Error(`hold refused: ${held.error.code}`);
      const booked = await send(w.socket, 'booking:confirm', { holdToken: held.data.holdToken, idempotencyKey: randomUUID() });
      expect(booked).toMatchObject({ ok: true });
      check('booking.confirm.ack', booked);
      // The check can fail: a hold answer is not a booking answer.
      expect(() => check('booking.confirm.ack', held)).toThrow(/does not match/);
    } finally {
      w.close();
    }
  });
});
