import { z } from 'zod';
import { isStaff } from '../shared/auth-user';
import { noneMatch, pickCoding } from '../http/conditional';
import type { ApiRouter } from '../http/route';
import type { PublishedLayouts } from '../venues/published-layouts';
import { eventLayoutView } from '../contracts/venues';
import { idParam } from '../shared/validation';
import { eventDetailView, eventPage, listEventsQuery } from '../contracts/events';
import type { EventsService } from './service';

export const eventIdParams = z.object({ id: idParam }).strict();

/** `?layout=false` leaves the venue layout out (clients that fetch it once from `/events/:id/layout`). */
export const detailQuery = z.object({ layout: z.enum(['true', 'false']).optional() }).strict();

/** `?v=<layoutVersion>`: a URL that names the version it wants may be cached forever. */
export const layoutQuery = z.object({ v: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).optional() }).strict();

/** A year: the longest max-age caches honour; with `immutable`, browsers do not even revalidate. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/**
 * Without `?v=` the URL names the event, not the version, so caches keep it a day and then revalidate (a 304 of
 * a few bytes). Venue seats never change, so in practice the answer stays the same.
 */
const REVALIDATE = 'public, max-age=86400';

/** GET /events, GET /events/:id, GET /events/:id/layout. Drafts are visible to staff only. */
export function registerEventsRoutes(api: ApiRouter, events: EventsService, layouts: PublishedLayouts): void {
  api.route(
    {
      method: 'get',
      path: '/events',
      summary: 'List events (paginated, filtered, sorted)',
      tag: 'events',
      access: 'public',
      query: listEventsQuery,
      responses: { 200: { description: 'A page of events', schema: eventPage } },
    },
    async ({ query, maybeUser }) => ({ body: await events.list(query, { includeDrafts: !!maybeUser && isStaff(maybeUser) }) }),
  );

  api.route(
    {
      method: 'get',
      path: '/events/:id',
      summary: 'An event with its venue and seat layout',
      tag: 'events',
      access: 'public',
      params: eventIdParams,
      query: detailQuery,
      responses: { 200: { description: 'The event', schema: eventDetailView }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, query, maybeUser }) => ({
      body: await events.detail(params.id, { includeDrafts: !!maybeUser && isStaff(maybeUser), withLayout: query.layout !== 'false' }),
    }),
  );

  api.route(
    {
      method: 'get',
      path: '/events/:id/layout',
      summary: 'The static seat map of an event (sections, seats, geometry) in compact-state order; strong ETag, long caching, gzip/brotli',
      tag: 'events',
      access: 'public',
      params: eventIdParams,
      query: layoutQuery,
      headers: {
        'If-None-Match': { required: false, description: 'The ETag (layout version) you hold: 304 when it is still current' },
        'Accept-Encoding': { required: false, description: 'br and gzip are served pre-compressed' },
      },
      responses: {
        200: { description: 'The layout; its ETag is `"<layoutVersion>"`', schema: eventLayoutView },
        304: { description: 'Not modified: the layout you hold is current' },
        404: { description: 'EVENT_NOT_FOUND' },
      },
    },
    async ({ params, query, maybeUser, header }) => {
      const event = await events.get(params.id, { includeDrafts: !!maybeUser && isStaff(maybeUser) });
      const layout = await layouts.forVenue(event.venueId);
      const etag = `"${layout.version}"`;
      // A draft is only visible to staff: no shared cache may keep it.
      const cache = event.status === 'draft' ? 'private, no-cache' : query.v === layout.version ? IMMUTABLE : REVALIDATE;
      const headers: Record<string, string> = { ETag: etag, 'Cache-Control': cache, Vary: 'Accept-Encoding' };
      if (noneMatch(header('If-None-Match'), etag)) return { status: 304, headers };
      const coding = pickCoding(header('Accept-Encoding'));
      const content = coding === 'br' ? layout.br : coding === 'gzip' ? layout.gzip : layout.json;
      if (coding !== 'identity') headers['Content-Encoding'] = coding;
      headers['Content-Length'] = String(content.length);
      return { headers, raw: { contentType: 'application/json; charset=utf-8', content } };
    },
  );
}
