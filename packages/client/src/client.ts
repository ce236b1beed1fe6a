import type {
  BookingView,
  EventDetailView,
  EventLayout,
  GaHoldPayload,
  GaHoldView,
  HoldView,
  ListBookingsQuery,
  ListEventsQuery,
  SeatBestPayload,
  UserView,
  WaitlistEntryView,
  WaitlistJoinPayload,
} from '../../../server/contracts';
import type { AuthReply, BookingPage, EventPage, GaAvailability, LoginInput, RegisterInput, ReleaseReply, SeatsSnapshotView } from './types';
import { newIdempotencyKey, request, type FetchLike, type Query, type RestOptions } from './rest';
import { SeatWatch, type WatchOptions } from './watch';

export interface EventlyClientOptions {
  /** Where the server is, e.g. `http://localhost:3000` (REST under `/api`, sockets under `/socket.io/`). */
  baseUrl: string;
  /** An access token to start with; `auth.login` / `auth.register` set it too. */
  token?: string;
  /** Defaults to the global `fetch` (Node 18+, browsers). */
  fetch?: FetchLike;
}

/** Optional fields of a list query (the server fills in page, limit and sort). */
type Filters<T> = { [K in keyof T]?: T[K] };

/**
 * A typed Evently client: REST calls with the contract's payload and reply types, and `watch` for a live seat
 * map over Socket.IO. Every call rejects with an EventlyError. One client may watch several events.
 *
 * @example
 * const client = new EventlyClient({ baseUrl: 'http://localhost:3000' });
 * await client.auth.login({ email, password });
 * const hold = await client.holds.create(eventId, { seatIds: [12, 13] });
 * const booking = await client.bookings.confirm(hold.holdToken);
 */
export class EventlyClient {
  /** The access token sent with REST calls and on every socket (re)connect; undefined: anonymous. */
  token: string | undefined;
  readonly baseUrl: string;
  private readonly rest: RestOptions;

  constructor(options: EventlyClientOptions) {
    this.baseUrl = options.baseUrl;
    this.token = options.token;
    if (!options.fetch && typeof globalThis.fetch !== 'function') throw new TypeError('No fetch available: pass options.fetch');
    // Bound: a browser's fetch called as a method of another object throws "Illegal invocation".
    const f = options.fetch ?? (globalThis.fetch.bind(globalThis) as unknown as FetchLike);
    this.rest = { baseUrl: options.baseUrl, fetch: f, token: () => this.token };
  }

  private call<T>(method: string, path: string, init?: { body?: unknown; query?: Query; headers?: Record<string, string> }): Promise<T> {
    return request<T>(this.rest, method, path, init);
  }

  /** Accounts. `register` and `login` keep the returned token for the calls and sockets that follow. */
  readonly auth = {
    register: async (body: RegisterInput): Promise<AuthReply> => this.signedIn(await this.call<AuthReply>('POST', '/auth/register', { body })),
    login: async (body: LoginInput): Promise<AuthReply> => this.signedIn(await this.call<AuthReply>('POST', '/auth/login', { body })),
    me: (): Promise<UserView> => this.call('GET', '/me'),
  };

  /** Events, their static layout and a one-off seat snapshot. */
  readonly events = {
    list: (query: Filters<ListEventsQuery> = {}): Promise<EventPage> => this.call('GET', '/events', { query }),
    /** `layout: false` leaves the venue layout out (fetch it once with `layout()`, it is cacheable). */
    get: (eventId: number, opts: { layout?: boolean } = {}): Promise<EventDetailView> =>
      this.call('GET', `/events/${eventId}`, { query: { layout: opts.layout === false ? 'false' : undefined } }),
    /** Sections and seats in compact-state order, with the `layoutVersion` compact payloads refer to. */
    layout: (eventId: number): Promise<EventLayout> => this.call('GET', `/events/${eventId}/layout`),
    seats: (eventId: number): Promise<SeatsSnapshotView> => this.call('GET', `/events/${eventId}/seats`),
  };

  /** Seat holds: all-or-nothing; a conflict rejects with SEAT_UNAVAILABLE (`details.seatIds`: the taken seats). */
  readonly holds = {
    create: (eventId: number, body: { seatIds: number[] }): Promise<HoldView> => this.call('POST', `/events/${eventId}/holds`, { body: { seatIds: body.seatIds } }),
    /** Adds seats to a hold you already have. */
    add: (eventId: number, holdToken: string, seatIds: number[]): Promise<HoldView> => this.call('POST', `/events/${eventId}/holds`, { body: { seatIds, holdToken } }),
    get: (holdToken: string): Promise<HoldView> => this.call('GET', `/holds/${encodeURIComponent(holdToken)}`),
    extend: (holdToken: string): Promise<HoldView> => this.call('POST', `/holds/${encodeURIComponent(holdToken)}/extend`),
    /** Releases some seats (all without `seatIds`). */
    release: (holdToken: string, seatIds?: number[]): Promise<ReleaseReply> =>
      this.call('DELETE', `/holds/${encodeURIComponent(holdToken)}`, seatIds ? { body: { seatIds } } : {}),
    /** Holds the best available seats (adjacent in one row nearest the stage unless `allowSplit`). */
    best: (eventId: number, body: SeatBestPayload): Promise<HoldView> => this.call('POST', `/events/${eventId}/holds/best`, { body }),
  };

  /** Bookings. `confirm` sends an Idempotency-Key (a fresh one unless given): a retry with the same key books once. */
  readonly bookings = {
    confirm: (holdToken: string, opts: { idempotencyKey?: string } = {}): Promise<BookingView> =>
      this.call('POST', '/bookings', { body: { holdToken }, headers: { 'Idempotency-Key': opts.idempotencyKey ?? newIdempotencyKey() } }),
    list: (query: Filters<ListBookingsQuery> = {}): Promise<BookingPage> => this.call('GET', '/bookings', { query }),
    get: (bookingId: number): Promise<BookingView> => this.call('GET', `/bookings/${bookingId}`),
    cancel: (bookingId: number): Promise<BookingView> => this.call('DELETE', `/bookings/${bookingId}`),
  };

  /** The waitlist: join, then accept (or decline) the offer that arrives as a `waitlist:offer` event. */
  readonly waitlist = {
    join: (eventId: number, body: WaitlistJoinPayload): Promise<WaitlistEntryView> => this.call('POST', `/events/${eventId}/waitlist`, { body }),
    mine: (eventId: number): Promise<WaitlistEntryView> => this.call('GET', `/events/${eventId}/waitlist/me`),
    accept: (entryId: number, opts: { idempotencyKey?: string } = {}): Promise<BookingView> =>
      this.call('POST', `/waitlist/${entryId}/accept`, { headers: { 'Idempotency-Key': opts.idempotencyKey ?? newIdempotencyKey() } }),
    decline: (entryId: number): Promise<WaitlistEntryView> => this.call('POST', `/waitlist/${entryId}/decline`),
    leave: (entryId: number): Promise<WaitlistEntryView> => this.call('DELETE', `/waitlist/${entryId}`),
  };

  /** General admission: availability per area, and holds of N tickets (book them with `bookings.confirm`). */
  readonly ga = {
    availability: (eventId: number): Promise<GaAvailability> => this.call('GET', `/events/${eventId}/ga`),
    hold: (eventId: number, body: GaHoldPayload): Promise<GaHoldView> => this.call('POST', `/events/${eventId}/ga/holds`, { body }),
  };

  /**
   * Watches an event's seats live: a Socket.IO connection to `/events/<id>` that keeps `watch.map` (a SeatMap)
   * exact, reconnects with its cursor, and sends typed commands. By default it fetches the layout once and asks
   * for the compact form; `{ format: 'json' }` skips the layout. Await `watch.ready` for the first snapshot.
   */
  watch(eventId: number, options: WatchOptions = {}): SeatWatch {
    return new SeatWatch(
      { baseUrl: this.baseUrl, eventId, token: () => this.token, layout: () => this.events.layout(eventId) },
      options,
    );
  }

  private signedIn(reply: AuthReply): AuthReply {
    this.token = reply.token;
    return reply;
  }
}
