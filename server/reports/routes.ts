import { eventParams } from '../contracts/events';
import { changesPage, changesQuery, eventSeatParams, reportQuery, reportView } from '../contracts/reports';
import type { ApiRouter } from '../http/route';
import { STAFF } from '../shared/auth-user';
import type { ChangeLog } from './change-log';
import type { ReportsService } from './service';

const TAG = 'admin';

/** `/api/admin/events/:id/{changes,seats/:seatId/history,report}`: what happened to an event's seats, and its report (staff). */
export function registerReportRoutes(api: ApiRouter, s: { changeLog: ChangeLog; reports: ReportsService }): void {
  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/changes',
      summary: 'Seat change log with actors (newest first; filter by seat, reason, actor; page with `before`)',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      query: changesQuery,
      responses: { 200: { description: 'Changes', schema: changesPage }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, query }) => ({ body: await s.changeLog.changes(params.id, query) }),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/seats/:seatId/history',
      summary: "A seat's history, oldest first",
      tag: TAG,
      access: STAFF,
      params: eventSeatParams,
      responses: { 200: { description: 'Changes', schema: changesPage }, 404: { description: 'EVENT_NOT_FOUND, SEAT_NOT_FOUND' } },
    },
    async ({ params }) => ({ body: await s.changeLog.seatHistory(params.id, params.seatId) }),
  );

  api.route(
    {
      method: 'get',
      path: '/admin/events/:id/report',
      summary: 'Seats by status, category and section, and revenue; `?format=csv` exports one row per seat',
      tag: TAG,
      access: STAFF,
      params: eventParams,
      query: reportQuery,
      responses: { 200: { description: 'The report (JSON), or with `?format=csv` the CSV export (text/csv)', schema: reportView, text: 'text/csv' }, 404: { description: 'EVENT_NOT_FOUND' } },
    },
    async ({ params, query }) => {
      if (query.format === 'csv') {
        return {
          text: { contentType: 'text/csv; charset=utf-8', content: await s.reports.csv(params.id) },
          headers: { 'Content-Disposition': `attachment; filename="event-${params.id}-seats.csv"` },
        };
      }
      return { body: await s.reports.report(params.id) };
    },
  );
}
