/** Account contracts: register, sign in, the user view, and the admin's user changes. */
import { z } from 'zod';
import { ROLES } from '../shared/auth-user';

const email = z.string().trim().toLowerCase().email('must be an email address').max(254);
// At most 72 bytes: legacy bcrypt hashes (still verified, see passwords.ts) only read the first 72, and the
// limit stays one rule for every account rather than depending on when it was created. TextEncoder, not Buffer:
// contracts compile for the browser too (same count: a lone surrogate is 3 bytes either way).
const utf8 = new TextEncoder();
const password = z
  .string()
  .min(8, 'must be at least 8 characters')
  .refine((p) => utf8.encode(p).length <= 72, 'must be at most 72 bytes');

export const registerBody = z
  .object({ email, password, name: z.string().trim().min(1).max(120) })
  .strict();

export const loginBody = z.object({ email, password: z.string().min(1).max(200) }).strict();

export const userView = z.object({
  id: z.number().int(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  /** False once an admin deactivated the account: it can neither sign in nor use a token issued before. */
  active: z.boolean(),
  createdAt: z.string(),
});
export type UserView = z.infer<typeof userView>;

export const authReply = z.object({ user: userView, token: z.string() });

/** PATCH /api/admin/users/:id: at least one of role and active. */
export const updateUserBody = z
  .object({ role: z.enum(ROLES).optional(), active: z.boolean().optional() })
  .strict()
  .refine((b) => b.role !== undefined || b.active !== undefined, { message: 'send role and/or active' });
export type UpdateUserBody = z.infer<typeof updateUserBody>;
