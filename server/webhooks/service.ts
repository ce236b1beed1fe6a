import type { Db } from '../db/knex';
import { privateLiteralHost } from './target-guard';
import { withTransaction, type RetryOptions } from '../db/transaction';
import type { Clock } from '../shared/clock';
import { ConflictError, NotFoundError, UnprocessableError } from '../shared/errors';
import type { DomainEventType } from '../shared/outbox';
import type { Page } from '../shared/validation';
import type { CreateEndpointBody, DeliveryView, EndpointView, ListDeliveriesQuery, UpdateEndpointBody } from '../contracts/webhooks';
import { MAX_ENDPOINTS } from '../contracts/webhooks';
import { newWebhookSecret } from './signing';

export interface WebhookServiceDeps {
  db: Db;
  clock: Clock;
  retry?: RetryOptions;
  /** WEBHOOK_ALLOW_PRIVATE_TARGETS: endpoints on loopback, private and reserved addresses may be registered. */
  allowPrivateTargets?: boolean;
}

interface EndpointRow {
  id: number;
  url: string;
  secret: string;
  event_types: string;
  enabled: boolean | number;
  description: string | null;
  version: number;
  created_at: number | string;
  updated_at: number | string;
}

interface DeliveryRow {
  uid: string;
  endpoint_id: number;
  status: DeliveryView['status'];
  attempts: number;
  next_attempt_at: number | string;
  claimed_until: number | string | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number | string;
  updated_at: number | string;
  delivered_at: number | string | null;
  event_uid: string;
  type: DomainEventType;
  event_created_at: number | string;
}

const iso = (ms: number | string) => new Date(Number(ms)).toISOString();

/**
 * Webhook endpoints (admin CRUD) and their delivery log. Secrets are stored to sign with, shown once when the
 * server generates one, and otherwise only as a four-character hint. Sending is the dispatcher's (dispatcher.ts).
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  async list(): Promise<{ items: EndpointView[] }> {
    const rows = (await this.deps.db('webhook_endpoints').orderBy('id').select()) as EndpointRow[];
    return { items: rows.map(toView) };
  }

  /** A URL naming a private or reserved address (or localhost) is refused up front, unless allowed. */
  private assertTargetAllowed(url: string): void {
    if (this.deps.allowPrivateTargets) return;
    const host = privateLiteralHost(url);
    if (host) {
      throw new UnprocessableError('WEBHOOK_URL_PRIVATE', `${host} is a private or reserved address; set WEBHOOK_ALLOW_PRIVATE_TARGETS=true to send webhooks inside your network`, { host });
    }
  }

  async get(id: number): Promise<EndpointView> {
    return toView(await this.row(id));
  }

  /** Registers an endpoint (at most MAX_ENDPOINTS); the answer carries its secret, this once. */
  async create(body: CreateEndpointBody): Promise<EndpointView & { secret: string }> {
    this.assertTargetAllowed(body.url);
    const secret = body.secret ?? newWebhookSecret();
    const id = await withTransaction(
      this.deps.db,
      async (trx) => {
        const [{ n }] = (await trx('webhook_endpoints').count({ n: '*' })) as [{ n: number | string }];
        if (Number(n) >= MAX_ENDPOINTS) throw new UnprocessableError('WEBHOOK_LIMIT_REACHED', `At most ${MAX_ENDPOINTS} webhook endpoints`, { max: MAX_ENDPOINTS });
        const now = this.deps.clock.now();
        const [inserted] = await trx('webhook_endpoints').insert({
          url: body.url,
          secret,
          event_types: JSON.stringify(body.eventTypes),
          enabled: body.enabled,
          description: body.description ?? null,
          version: 1,
          created_at: now,
          updated_at: now,
        });
        return Number(inserted);
      },
      this.deps.retry,
    );
    return { ...(await this.get(id)), secret };
  }

  /**
   * Changes an endpoint. A disabled endpoint is sent nothing: events that happen meanwhile are not queued for it,
   * and deliveries already pending wait until it is enabled again.
   */
  async update(id: number, body: UpdateEndpointBody): Promise<EndpointView> {
    if (body.url !== undefined) this.assertTargetAllowed(body.url);
    await this.row(id);
    const patch: Record<string, unknown> = { updated_at: this.deps.clock.now(), version: this.deps.db.raw('version + 1') };
    if (body.url !== undefined) patch.url = body.url;
    if (body.secret !== undefined) patch.secret = body.secret;
    if (body.eventTypes !== undefined) patch.event_types = JSON.stringify(body.eventTypes);
    if (body.enabled !== undefined) patch.enabled = body.enabled;
    if (body.description !== undefined) patch.description = body.description;
    const changed = await this.deps.db('webhook_endpoints').where({ id }).update(patch);
    if (changed !== 1) throw new NotFoundError('Webhook endpoint', 'WEBHOOK_NOT_FOUND');
    return this.get(id);
  }

  /** Removes an endpoint and its delivery log; pending deliveries to it are dropped. */
  async remove(id: number): Promise<void> {
    const deleted = await this.deps.db('webhook_endpoints').where({ id }).delete();
    if (deleted !== 1) throw new NotFoundError('Webhook endpoint', 'WEBHOOK_NOT_FOUND');
  }

  /** The endpoint's deliveries, newest first. */
  async deliveries(id: number, query: ListDeliveriesQuery): Promise<Page<DeliveryView>> {
    await this.row(id);
    const base = this.deps.db('webhook_deliveries as d').where('d.endpoint_id', id).modify((q) => {
      if (query.status) q.where('d.status', query.status);
    });
    const [rows, [{ n }]] = await Promise.all([
      this.withEvent(base.clone()).orderBy('d.id', 'desc').offset((query.page - 1) * query.limit).limit(query.limit),
      base.clone().count({ n: '*' }) as unknown as Promise<[{ n: number | string }]>,
    ]);
    return { items: (rows as DeliveryRow[]).map(deliveryView), page: query.page, limit: query.limit, total: Number(n) };
  }

  /**
   * Sends a delivery again: it becomes pending, due now, with a fresh day of retries (the event id stays the
   * same, so receivers that saw it deduplicate). Refused while an attempt is in flight (409).
   */
  async redeliver(id: number, deliveryId: string): Promise<DeliveryView> {
    const now = this.deps.clock.now();
    const row = (await this.deps.db('webhook_deliveries').where({ uid: deliveryId, endpoint_id: id }).first('id', 'status', 'claimed_until')) as
      | { id: number; status: string; claimed_until: number | string | null }
      | undefined;
    if (!row) throw new NotFoundError('Webhook delivery', 'DELIVERY_NOT_FOUND');
    // Not under a live lease (written out: NOT over a NULL claimed_until would be NULL, not true).
    const changed = await this.deps.db('webhook_deliveries')
      .where({ id: row.id })
      .andWhere((q) => q.whereNot('status', 'pending').orWhereNull('claimed_until').orWhere('claimed_until', '<=', now))
      .update({ status: 'pending', next_attempt_at: now, retry_from: now, claimed_until: null, claim_token: null, delivered_at: null, updated_at: now });
    if (changed !== 1) throw new ConflictError('DELIVERY_IN_FLIGHT', 'An attempt of this delivery is in flight; try again when it has finished');
    const fresh = (await this.withEvent(this.deps.db('webhook_deliveries as d').where('d.id', row.id)).first()) as DeliveryRow;
    return deliveryView(fresh);
  }

  private withEvent(q: ReturnType<Db>) {
    return q
      .join('outbox as o', 'o.id', 'd.outbox_id')
      .select('d.*', 'o.uid as event_uid', 'o.type', 'o.created_at as event_created_at');
  }

  private async row(id: number): Promise<EndpointRow> {
    const row = (await this.deps.db('webhook_endpoints').where({ id }).first()) as EndpointRow | undefined;
    if (!row) throw new NotFoundError('Webhook endpoint', 'WEBHOOK_NOT_FOUND');
    return row;
  }
}

function toView(r: EndpointRow): EndpointView {
  return {
    id: r.id,
    url: r.url,
    eventTypes: JSON.parse(r.event_types) as EndpointView['eventTypes'],
    enabled: !!r.enabled,
    description: r.description,
    secretHint: `…${r.secret.slice(-4)}`,
    version: r.version,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

function deliveryView(r: DeliveryRow): DeliveryView {
  return {
    id: r.uid,
    endpointId: r.endpoint_id,
    event: { id: r.event_uid, type: r.type, createdAt: iso(r.event_created_at) },
    status: r.status,
    attempts: r.attempts,
    nextAttemptAt: r.status === 'pending' ? iso(r.next_attempt_at) : null,
    lastHttpStatus: r.last_status,
    lastError: r.last_error,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    deliveredAt: r.delivered_at === null ? null : iso(r.delivered_at),
  };
}
