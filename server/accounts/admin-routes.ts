import { z } from 'zod';
import type { ApiRouter } from '../http/route';
import { idParam } from '../shared/validation';
import { updateUserBody, userView } from '../contracts/accounts';
import type { AccountsService } from './service';

const userParams = z.object({ id: idParam }).strict();

/** GET and PATCH /admin/users/:id: an admin reads a user, changes their role, deactivates or reactivates them. */
export function registerUserAdminRoutes(api: ApiRouter, accounts: AccountsService): void {
  api.route(
    {
      method: 'get',
      path: '/admin/users/:id',
      summary: 'A user, with role and whether the account is active',
      tag: 'admin',
      access: ['admin'],
      params: userParams,
      responses: { 200: { description: 'The user', schema: userView }, 404: { description: 'USER_NOT_FOUND' } },
    },
    async ({ params }) => ({ body: await accounts.me(params.id) }),
  );

  api.route(
    {
      method: 'patch',
      path: '/admin/users/:id',
      summary: "Change a user's role and/or deactivate (active: false) or reactivate them; effective at once on every node",
      tag: 'admin',
      access: ['admin'],
      params: userParams,
      body: updateUserBody,
      responses: {
        200: { description: 'The user as now', schema: userView },
        404: { description: 'USER_NOT_FOUND' },
        409: { description: 'CANNOT_CHANGE_OWN_ACCESS' },
      },
    },
    async ({ params, body, user }) => ({ body: await accounts.updateAccess(user, params.id, body) }),
  );
}
