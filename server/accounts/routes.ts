import type { ApiRouter } from '../http/route';
import { authReply, loginBody, registerBody, userView } from '../contracts/accounts';
import type { AccountsService } from './service';

/** POST /auth/register, POST /auth/login, GET /me. */
export function registerAccountsRoutes(api: ApiRouter, accounts: AccountsService): void {
  api.route(
    {
      method: 'post',
      path: '/auth/register',
      summary: 'Create a user account and sign in',
      tag: 'accounts',
      access: 'public',
      body: registerBody,
      responses: { 201: { description: 'Account created', schema: authReply }, 409: { description: 'EMAIL_TAKEN' } },
    },
    async ({ body }) => ({ status: 201, body: await accounts.register(body) }),
  );

  api.route(
    {
      method: 'post',
      path: '/auth/login',
      summary: 'Sign in with email and password',
      tag: 'accounts',
      access: 'public',
      body: loginBody,
      responses: { 200: { description: 'Signed in', schema: authReply }, 401: { description: 'INVALID_CREDENTIALS' } },
    },
    async ({ body }) => ({ body: await accounts.login(body) }),
  );

  api.route(
    {
      method: 'get',
      path: '/me',
      summary: 'The signed-in user',
      tag: 'accounts',
      access: 'user',
      responses: { 200: { description: 'The user', schema: userView } },
    },
    async ({ user }) => ({ body: await accounts.me(user.id) }),
  );
}
