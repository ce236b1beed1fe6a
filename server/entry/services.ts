import { AccountsService } from '../accounts/service';
import { BoxOfficeService } from '../box-office/service';
import { StaffView } from '../box-office/staff-view';
import { ChangeLog } from '../reports/change-log';
import { ReportsService } from '../reports/service';
import { EventCancellation } from '../events/cancellation';
import { EventLifecycle } from '../events/lifecycle';
import { TokenService } from '../accounts/tokens';
import { localAccessBus, UserAccess, type AccessBus } from '../accounts/user-access';
import { BookingsService } from '../bookings/service';
import type { Config } from '../config';
import type { Db } from '../db/knex';
import type { RetryOptions } from '../db/transaction';
import { EventsService } from '../events/service';
import { GaService } from '../ga/service';
import type { Notifier } from '../realtime/notifier';
import { BestAvailableService } from '../seats/best-service';
import { SeatsService } from '../seats/service';
import { InventoryService } from '../inventory/service';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { VenueCatalogue } from '../venues/catalogue';
import { PublishedLayouts } from '../venues/published-layouts';
import { VenuesService } from '../venues/service';
import { WaitlistService } from '../waitlist/service';
import { closeEntriesOfEvent, entriesInLineSql } from '../waitlist/entries';
import { WebhookService } from '../webhooks/service';
import type { Cluster, Redis } from 'ioredis';
import { MemoryQueueStore } from '../queue/memory-store';
import { RedisQueueStore } from '../queue/redis-store';
import { WaitingRoomService } from '../queue/service';

/** Everything a service may depend on. Built once per node in entry/node.ts; no module singletons. */
export interface CoreDeps {
  config: Config;
  db: Db;
  clock: Clock;
  notifier: Notifier;
  retry?: RetryOptions;
  /** Observes each committed seat batch (metrics): the event and how many commands it decided. */
  onBatch?: (eventId: number, commands: number, ms: number) => void;
  /** The per-IP hold cap refused a hold (metrics, log). */
  onIpCap?: (eventId: number, clientIp: string) => void;
  /** Carries user access changes between nodes (Redis pub/sub); this node only when absent. */
  accessBus?: AccessBus;
  /** Services that work in the background (waitlist matching, GA broadcasts) log their failures here. */
  logger: Logger;
  /** The waiting room's line lives here when set (shared by the nodes); in this process's memory otherwise. */
  redis?: Redis | Cluster;
  /** The waiting room's lobby draws (tests seed it); cryptographic by default. */
  queueRandom?: () => number;
}

export interface Services {
  tokens: TokenService;
  /** Tokens checked against the user's current state (see accounts/user-access.ts). */
  access: UserAccess;
  accounts: AccountsService;
  venues: VenuesService;
  /** Venue layouts as served (hashed, compressed) and their seat order for compact seat state. */
  layouts: PublishedLayouts;
  events: EventsService;
  inventory: InventoryService;
  seats: SeatsService;
  bookings: BookingsService;
  waitlist: WaitlistService;
  best: BestAvailableService;
  ga: GaService;
  /** Venues as admins write them (generated or imported layouts, optimistic concurrency). */
  venueCatalogue: VenueCatalogue;
  /** Events as admins run them: create, change, publish, close (drafts included). */
  eventLifecycle: EventLifecycle;
  eventCancellation: EventCancellation;
  boxOffice: BoxOfficeService;
  /** Who holds or booked each seat: staff snapshots and staff broadcast batches. */
  staffView: StaffView;
  changeLog: ChangeLog;
  reports: ReportsService;
  /** Webhook endpoints and their delivery log (the dispatcher itself is started by node.ts). */
  webhooks: WebhookService;
  /** The waiting room (server/queue/). */
  queue: WaitingRoomService;
}

export function createServices(core: CoreDeps): Services {
  const { config, db, clock, notifier, retry, onBatch, onIpCap, logger } = core;
  const tokens = new TokenService(config.jwt, clock);
  const access = new UserAccess({ db, clock, tokens, bus: core.accessBus ?? localAccessBus(), cacheMs: config.authCacheSeconds * 1000 });
  const accounts = new AccountsService({ db, clock, tokens, access, logger });
  const venues = new VenuesService({ db, clock });
  const layouts = new PublishedLayouts({ db, venues });
  const events = new EventsService({ db, clock, venues });
  const store = core.redis ? new RedisQueueStore(core.redis, config.redisKeyPrefix) : new MemoryQueueStore();
  const queue = new WaitingRoomService({ db, clock, store, random: core.queueRandom, logger });
  const ga = new GaService({ db, clock, notifier, retry, logger, holdGate: queue });
  // Freed seats go to the waitlist first; the waitlist is built after the bookings service it books through.
  let waitlist: WaitlistService | undefined;
  const onSeatsFreed = (eventId: number, seatIds: number[]) => waitlist?.seatsFreed(eventId, seatIds);
  // New holds are shed (BUSY) when their expected wait for the event's next batch is too long (or too many wait).
  const groupCommit = { ...config.seatBatch, maxQueuedHolds: config.holdQueueMax, maxQueueWaitMs: config.holdQueueWaitMs };
  const inventory = new InventoryService({ db, clock, notifier, retry, onSeatsFreed, freedSeatsWanted: entriesInLineSql, holdExtras: ga, onBatch, groupCommit, ipHoldCap: config.holdCapPerIp, onIpCap });
  const seats = new SeatsService({ db, clock, inventory, holdGate: queue });
  const onBooked = (eventId: number, userId: number) => queue.finished(eventId, userId, 'booked').catch((err) => logger.warn({ err, eventId }, "waiting room: could not pass a booked buyer's slot on"));
  const bookings = new BookingsService({ db, clock, notifier, retry, onSeatsFreed, holdExtras: ga, inventory, onBooked, seatDirectory: layouts });
  waitlist = new WaitlistService({ db, clock, notifier, retry, bookings, logger });
  const best = new BestAvailableService({ db, clock, notifier, retry, ipHoldCap: config.holdCapPerIp, holdGate: queue });
  const venueCatalogue = new VenueCatalogue({ db, clock, venues, retry });
  const eventLifecycle = new EventLifecycle({ db, clock, notifier, events, retry });
  const eventCancellation = new EventCancellation({ db, clock, notifier, lifecycle: eventLifecycle, retry, holdExtras: ga, closeWaitlist: closeEntriesOfEvent });
  const boxOffice = new BoxOfficeService({ db, clock, notifier, bookings, retry, onSeatsFreed });
  const staffView = new StaffView({ db });
  const changeLog = new ChangeLog({ db });
  const reports = new ReportsService({ db, clock });
  const webhooks = new WebhookService({ db, clock, retry, allowPrivateTargets: config.webhooks.allowPrivateTargets });
  return { tokens, access, accounts, venues, layouts, events, inventory, seats, bookings, waitlist, best, ga, venueCatalogue, eventLifecycle, eventCancellation, boxOffice, staffView, changeLog, reports, webhooks, queue };
}
