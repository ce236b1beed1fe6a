import { z } from 'zod';
import { binaryField } from '../contracts/compact';
import { errorDetail } from '../contracts/errors';
import { handshakeAuth } from '../contracts/socket';
import { serverEvents, socketCommands, type CommandSpec, type ServerEventSpec, type SocketChannel } from '../contracts/socket-catalog';

/**
 * zod → JSON Schema draft-07 (the dialect AsyncAPI 3's default schema format extends). A binary attachment of
 * the compact form (a zod custom type, which JSON Schema cannot express) is documented as a binary string.
 */
function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const out = z.toJSONSchema(schema, {
    io,
    target: 'draft-7',
    unrepresentable: 'any',
    override: (ctx) => {
      if (ctx.zodSchema === (binaryField as unknown)) {
        Object.assign(ctx.jsonSchema, { oneOf: [{ type: 'string', format: 'binary' }, { type: 'array', items: { type: 'integer', minimum: 0, maximum: 255 } }] });
        ctx.jsonSchema.description ??= 'Bytes: a binary attachment in snapshots (a Buffer in Node, an ArrayBuffer in a browser), an array of byte values in change batches';
      }
    },
  }) as Record<string, unknown>;
  delete out.$schema;
  return out;
}

/** AsyncAPI component keys allow only `[A-Za-z0-9._-]`: `seat:hold` becomes `seat.hold`. */
const key = (eventName: string): string => eventName.replace(/:/g, '.');

/** The answer every command's ack carries: `{ok: true, data}` with the command's data, or `{ok: false, error}`. */
function ackSchema(data: z.ZodType): Record<string, unknown> {
  return {
    oneOf: [
      { type: 'object', required: ['ok', 'data'], additionalProperties: false, properties: { ok: { const: true }, data: jsonSchema(data, 'output') } },
      { type: 'object', required: ['ok', 'error'], additionalProperties: false, properties: { ok: { const: false }, error: { $ref: '#/components/schemas/Error' } } },
    ],
  };
}

const channelRef = (c: SocketChannel) => ({ $ref: `#/channels/${c}` });
const channelMessage = (c: SocketChannel, k: string) => ({ $ref: `#/channels/${c}/messages/${k}` });

/**
 * Builds the AsyncAPI 3.0 document of the Socket.IO protocol from the socket catalog (contracts/socket-catalog.ts),
 * whose schemas are the ones the handlers validate with and the typed event map is inferred from. One channel,
 * the event namespace `/events/{eventId}`; every command is a `send` operation whose `reply` is its ack on the
 * same channel; every server event is a `receive` operation. Served at /asyncapi.json; validated against the
 * official AsyncAPI 3.0.0 JSON Schema in tests/integration/asyncapi.test.ts.
 */
export function buildAsyncApi(info: { version: string }): Record<string, unknown> {
  const messages: Record<string, unknown> = {};
  const channelMessages: Record<SocketChannel, Record<string, unknown>> = { event: {}, queue: {} };
  const operations: Record<string, unknown> = {};
  const commandEntries = Object.entries(socketCommands) as [string, CommandSpec][];
  const eventEntries = Object.entries(serverEvents) as [string, ServerEventSpec][];

  for (const [name, spec] of commandEntries) {
    const k = key(name);
    messages[k] = {
      name,
      title: name,
      summary: spec.summary,
      ...(spec.access === 'user' ? { description: 'Needs a signed-in socket (handshake auth.token or auth:refresh); otherwise answers UNAUTHORIZED.' } : {}),
      payload: jsonSchema(spec.payload, 'input'),
    };
    messages[`${k}.ack`] = { name: `${name} ack`, title: `${name} (ack)`, summary: `The answer to ${name}, passed to the emit's acknowledgement callback`, payload: ackSchema(spec.ack) };
    const c = spec.channel ?? 'event';
    channelMessages[c][k] = { $ref: `#/components/messages/${k}` };
    channelMessages[c][`${k}.ack`] = { $ref: `#/components/messages/${k}.ack` };
    operations[k] = {
      action: 'send',
      channel: channelRef(c),
      title: name,
      summary: spec.summary,
      messages: [channelMessage(c, k)],
      reply: { channel: channelRef(c), messages: [channelMessage(c, `${k}.ack`)] },
      ...(spec.access === 'user' ? { security: [{ $ref: '#/components/securitySchemes/token' }] } : {}),
    };
  }
  for (const [name, spec] of eventEntries) {
    const k = key(name);
    messages[k] = { name, title: name, summary: spec.summary, description: `Sent to: ${spec.audience === 'watchers' ? 'every socket of the namespace' : "the user's own sockets only"}.`, payload: jsonSchema(spec.payload, 'output') };
    const c = spec.channel ?? 'event';
    channelMessages[c][k] = { $ref: `#/components/messages/${k}` };
    operations[k] = { action: 'receive', channel: channelRef(c), title: name, summary: spec.summary, messages: [channelMessage(c, k)] };
  }

  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Evently socket protocol',
      version: info.version,
      description: [
        'Socket.IO 4 (Engine.IO 4; WebSocket, with HTTP long-polling as fallback). One namespace per event, `/events/{eventId}`.',
        'Handshake: the Socket.IO `auth` object is the HandshakeAuth schema: `token` (the JWT from POST /api/auth/login; optional, watching needs none),',
        '`cursor` (from a previous snapshot or change batch: catch up from there instead of a fresh snapshot), `format` (`json`, the default, or `compact`:',
        'seat state in the order of GET /api/events/{eventId}/layout, binary). A refused handshake arrives as connect_error with `data` = the Error schema.',
        'Every command takes an acknowledgement callback and answers `{ok: true, data}` or `{ok: false, error: {code, message, details?}}`; a command the server does not know answers UNKNOWN_COMMAND.',
        'Seat changes are delivered at most once: keep the highest version per seat, and reconnect with your cursor. REST: /openapi.json.',
      ].join(' '),
    },
    defaultContentType: 'application/json',
    servers: {
      evently: {
        host: 'localhost:3000',
        protocol: 'ws',
        pathname: '/socket.io/',
        description: 'Socket.IO endpoint of a node (use your deployment host; wss behind TLS). The namespace is the channel address.',
        security: [{ $ref: '#/components/securitySchemes/token' }],
      },
    },
    channels: {
      event: {
        address: '/events/{eventId}',
        title: "One event's seats",
        description: 'The Socket.IO namespace of one event. Connect with the HandshakeAuth object as `auth`; commands and events below travel on it.',
        parameters: { eventId: { description: 'The event id (GET /api/events)' } },
        messages: channelMessages.event,
        'x-socketio-handshake-auth': { $ref: '#/components/schemas/HandshakeAuth' },
      },
      queue: {
        address: '/queue/{eventId}',
        title: "One event's waiting room",
        description: 'The waiting room of an event whose queue is on (docs/WAITING-ROOM.md): connect with `auth.token`, send queue:join, follow queue:progress, and open the event namespace after queue:admitted. Holds answer NOT_ADMITTED without an admission while the queue is on.',
        parameters: { eventId: { description: 'The event id (GET /api/events)' } },
        messages: channelMessages.queue,
      },
    },
    operations,
    components: {
      schemas: { HandshakeAuth: jsonSchema(handshakeAuth, 'input'), Error: jsonSchema(errorDetail, 'output') },
      messages,
      securitySchemes: {
        token: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'The access token, sent as `auth.token` in the Socket.IO handshake (not as a header); swap it later with auth:refresh.',
        },
      },
    },
  };
}
