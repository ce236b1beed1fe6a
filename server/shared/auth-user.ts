/** Roles, from most to least powerful. */
export const ROLES = ['admin', 'box_office', 'user'] as const;
export type Role = (typeof ROLES)[number];

/** Route access lists (`access` of a route spec): who may call it is a property of the route, not of a folder. */
export const ADMIN: Role[] = ['admin'];
/** Box office and admin: they run the sale. */
export const STAFF: Role[] = ['admin', 'box_office'];

/** The acting user as the services see it: taken from a verified JWT, never from the request body. */
export interface AuthUser {
  id: number;
  role: Role;
  email: string;
  name: string;
  /** Token expiry, ms since epoch: a socket stops accepting commands after it. */
  expiresAt: number;
  /** The user's token version when the token was signed; a token older than the user's current one is revoked. */
  tokenVersion: number;
}

/** Box office and admin may act on anyone's holds and bookings. */
export function isStaff(user: Pick<AuthUser, 'role'>): boolean {
  return user.role === 'admin' || user.role === 'box_office';
}
