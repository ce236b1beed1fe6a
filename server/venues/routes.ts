import { createVenueBody, listVenuesQuery, updateVenueBody, venueDetailView, venuePage, venueView } from '../contracts/venues';
import { etagOf, versionFromIfMatch } from '../http/etag';
import type { ApiRouter } from '../http/route';
import { ADMIN, STAFF } from '../shared/auth-user';
import { idParam } from '../shared/validation';
import { z } from 'zod';
import type { VenueCatalogue } from './catalogue';

const TAG = 'admin';
const ifMatch = { 'If-Match': { required: true, description: 'The ETag you read (e.g. "3"); a stale one gets 412 and changes nothing' } };
const venueParams = z.object({ id: idParam }).strict();

/** `/api/admin/venues…`: staff read the catalogue, admins write it. */
export function registerVenueRoutes(api: ApiRouter, catalogue: VenueCatalogue): void {
  api.route(
    {
      method: 'get',
      path: '/admin/venues',
      summary: 'List venues (paginated, filtered by name, sorted)',
      tag: TAG,
      access: STAFF,
      query: listVenuesQuery,
      responses: { 200: { description: 'A page of venues', schema: venuePage } },
    },
    async ({ query }) => ({ body: await catalogue.listVenues(query) }),
  );

  api.route(
    {
      method: 'post',
      path: '/admin/venues',
      summary: 'Create a venue from an imported JSON layout and/or generated rectangular and curved sections',
      tag: TAG,
      access: ADMIN,
      body: createVenueBody,
      responses: {
        201: { description: 'Created, with its layout', schema: venueDetailView },
        422: { description: 'EMPTY_LAYOUT, DUPLICATE_SEAT_LABELS, DUPLICATE_SECTION_NAMES, LAYOUT_TOO_LARGE' },
      },
    },
    async ({ body }) => {
      const venue = await catalogue.createVenue(body);
      return { status: 201, body: venue, headers: { ETag: etagOf(venue.version) } };
    },
  );

  api.route(
    {
      method: 'get',
      path: '/admin/venues/:id',
      summary: 'A venue with its layout (ETag carries its version)',
      tag: TAG,
      access: STAFF,
      params: venueParams,
      responses: { 200: { description: 'The venue', schema: venueDetailView }, 404: { description: 'VENUE_NOT_FOUND' } },
    },
    async ({ params }) => {
      const venue = await catalogue.getVenue(params.id);
      return { body: venue, headers: { ETag: etagOf(venue.version) } };
    },
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/venues/:id',
      summary: 'Rename a venue or change its address (If-Match required)',
      tag: TAG,
      access: ADMIN,
      params: venueParams,
      body: updateVenueBody,
      headers: ifMatch,
      responses: {
        200: { description: 'Updated', schema: venueView },
        404: { description: 'VENUE_NOT_FOUND' },
        412: { description: 'PRECONDITION_FAILED' },
        428: { description: 'PRECONDITION_REQUIRED' },
      },
    },
    async ({ params, body, header }) => {
      const venue = await catalogue.updateVenue(params.id, body, versionFromIfMatch(header('If-Match')));
      return { body: venue, headers: { ETag: etagOf(venue.version) } };
    },
  );
}
