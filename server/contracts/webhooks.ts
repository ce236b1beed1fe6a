import { z } from 'zod';
import { DOMAIN_EVENT_TYPES } from '../shared/domain-events';
import { idParam, pageQuery } from '../shared/validation';

/** Most endpoints one deployment may register (each event is POSTed once per subscribed endpoint). */
export const MAX_ENDPOINTS = 20;

/** An endpoint URL: http(s) only, no user:password (it would end up in logs), at most 2048 characters. */
export const endpointUrl = z
  .string()
  .trim()
  .max(2048)
  .refine((v) => {
    try {
      const u = new URL(v);
      return (u.protocol === 'http:' || u.protocol === 'https:') && !u.username && !u.password;
    } catch {
      return false;
    }
  }, 'must be an absolute http:// or https:// URL without credentials');

/** A signing secret an admin chooses: 24-256 printable ASCII characters without spaces. */
const secret = z.string().min(24).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

export const eventTypes = z
  .array(z.enum(DOMAIN_EVENT_TYPES))
  .min(1)
  .max(DOMAIN_EVENT_TYPES.length)
  .refine((types) => new Set(types).size === types.length, 'must not repeat a type');

export const createEndpointBody = z
  .object({
    url: endpointUrl,
    eventTypes,
    /** Omit it and the server generates one (returned in this response only). */
    secret: secret.optional(),
    enabled: z.boolean().default(true),
    description: z.string().trim().max(200).nullable().optional(),
  })
  .strict();
export type CreateEndpointBody = z.infer<typeof createEndpointBody>;

export const updateEndpointBody = z
  .object({ url: endpointUrl, eventTypes, secret, enabled: z.boolean(), description: z.string().trim().max(200).nullable() })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, 'send at least one field to change');
export type UpdateEndpointBody = z.infer<typeof updateEndpointBody>;

export const endpointParams = z.object({ id: idParam }).strict();
export const deliveryParams = z.object({ id: idParam, deliveryId: z.uuid() }).strict();

export const endpointView = z.object({
  id: z.number(),
  url: z.string(),
  eventTypes: z.array(z.enum(DOMAIN_EVENT_TYPES)),
  enabled: z.boolean(),
  description: z.string().nullable(),
  /** The secret's last four characters, to tell secrets apart; the secret itself is never shown again. */
  secretHint: z.string(),
  version: z.number(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type EndpointView = z.infer<typeof endpointView>;

/** The answer to a create: the endpoint and its secret, shown this once. */
export const createdEndpointView = endpointView.extend({ secret: z.string() });
export const endpointList = z.object({ items: z.array(endpointView) });

export const deliveryStatus = z.enum(['pending', 'delivered', 'failed']);

export const deliveryView = z.object({
  /** The delivery id (Evently-Delivery-Id header). */
  id: z.string(),
  endpointId: z.number(),
  /** The event delivered, as in the body receivers get (its id is what they deduplicate by). */
  event: z.object({ id: z.string(), type: z.enum(DOMAIN_EVENT_TYPES), createdAt: z.string() }),
  status: deliveryStatus,
  attempts: z.number(),
  /** When the next attempt is due (pending only). */
  nextAttemptAt: z.string().nullable(),
  /** HTTP status of the last answer; null when there was none (refused, timed out). */
  lastHttpStatus: z.number().nullable(),
  lastError: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  deliveredAt: z.string().nullable(),
});
export type DeliveryView = z.infer<typeof deliveryView>;

export const listDeliveriesQuery = z.object({ ...pageQuery, status: deliveryStatus.optional() }).strict();
export type ListDeliveriesQuery = z.infer<typeof listDeliveriesQuery>;
export const deliveryPage = z.object({ items: z.array(deliveryView), page: z.number(), limit: z.number(), total: z.number() });
