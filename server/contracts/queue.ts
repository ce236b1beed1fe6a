import { z } from 'zod';

/**
 * Waiting-room schemas (issue 12; docs/WAITING-ROOM.md): the organiser's configuration (PUT
 * /api/admin/events/:id/queue), the buyer's place (REST and `queue:*` socket answers), and the messages of the
 * `/queue/<eventId>` namespace. Types are z.infer of these. A buyer connects to `/queue/<eventId>` with a token
 * and sends `queue:join`; before the sale start it waits in the `lobby` (its place is drawn at random at the
 * start), then it has a `ticket`, and its position is `ticket - head`, `head` coming with every `queue:progress`.
 */

const limit = z.number().int().min(1).max(1_000_000);

export const queueConfigBody = z
  .object({
    /** Off: buyers go straight to the seat map (the line is forgotten). */
    enabled: z.boolean(),
    /** From when buyers may join (before the sale start they wait in the lobby, order drawn at the start). */
    opensAt: z.iso.datetime({ offset: true }),
    /** Admission begins; everyone who joined before is given a random place at this moment. */
    saleStartsAt: z.iso.datetime({ offset: true }),
    /** Most buyers admitted and shopping at once. */
    maxActive: limit.nullable().optional(),
    /** Admissions per minute. */
    admitPerMinute: limit.nullable().optional(),
    /** How long an admitted buyer may shop before the slot passes on. */
    windowSeconds: z.number().int().min(60).max(4 * 3600).default(600),
  })
  .strict()
  .refine((c) => Date.parse(c.opensAt) <= Date.parse(c.saleStartsAt), { path: ['opensAt'], message: 'opensAt must not be after saleStartsAt' })
  .refine((c) => (c.maxActive ?? null) !== null || (c.admitPerMinute ?? null) !== null, {
    path: ['maxActive'],
    message: 'Set maxActive, admitPerMinute or both: one of them paces admission',
  });
export type QueueConfigBody = z.infer<typeof queueConfigBody>;

export const queueConfigView = z.object({
  eventId: z.number(),
  enabled: z.boolean(),
  opensAt: z.string(),
  saleStartsAt: z.string(),
  maxActive: z.number().nullable(),
  admitPerMinute: z.number().nullable(),
  windowSeconds: z.number(),
});
export type QueueConfigView = z.infer<typeof queueConfigView>;

export const lineView = z.object({
  /** Highest ticket admitted so far: a waiting buyer's position is `ticket - head`. */
  head: z.number(),
  waiting: z.number(),
  lobby: z.number(),
  active: z.number(),
  admitted: z.number(),
  /** The lobby has been drawn (the sale has started). */
  drawn: z.boolean(),
  /** Admissions per minute lately (or as configured, before there is a history): the wait estimate's basis. */
  ratePerMinute: z.number(),
});

/** An organiser's view: the configuration and the line now. */
export const queueAdminView = queueConfigView.extend({ line: lineView.nullable() });

export const QUEUE_STATES = ['off', 'none', 'lobby', 'waiting', 'admitted', 'done'] as const;

/** One buyer's place. */
export const queueStatusView = z.object({
  eventId: z.number(),
  /** `off`: no waiting room, go straight to the seats. `none`: not in line. `done`: see doneReason. */
  state: z.enum(QUEUE_STATES),
  opensAt: z.string().nullable(),
  saleStartsAt: z.string().nullable(),
  windowSeconds: z.number().nullable(),
  ticket: z.number().nullable(),
  position: z.number().nullable(),
  estimatedWaitSeconds: z.number().nullable(),
  admittedUntil: z.string().nullable(),
  // `.or(z.null())`, not `.nullable()`: OpenAPI 3.0's nullable does not add null to an enum (ajv, the contract test).
  doneReason: z.enum(['expired', 'booked', 'left']).or(z.null()),
  line: lineView.omit({ active: true, admitted: true }),
});

export type QueueState = (typeof QUEUE_STATES)[number];
export type QueueStatus = z.infer<typeof queueStatusView>;
/** The line as every queued buyer sees it. */
export type QueueLine = QueueStatus['line'];

/** `queue:join`, `queue:status`, `queue:leave` take no fields (a client cannot pick its place). */
export const queuePlacePayload = z.object({}).strict();

/** `queue:progress`: the line moved; one message per event per node per second at most, the same for every queued socket. */
export const queueProgress = queueStatusView.shape.line.extend({ eventId: z.number() });
export type QueueProgress = z.infer<typeof queueProgress>;

/** `queue:admitted`: you may shop until `admittedUntil`; open the seat map. */
export const queueAdmitted = z.object({ eventId: z.number(), admittedUntil: z.string() });
export type QueueAdmitted = z.infer<typeof queueAdmitted>;
