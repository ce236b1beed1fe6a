import jwt from 'jsonwebtoken';
import type { Config } from '../config';
import type { Clock } from '../shared/clock';
import { UnauthorizedError } from '../shared/errors';
import { ROLES, type AuthUser, type Role } from './auth-user';

const ALGORITHM = 'HS256' as const;

/**
 * Signs and verifies access tokens. The algorithm, issuer and audience are pinned on both sides, so an
 * `alg: none` token or one minted for another service is rejected; time comes from the injected clock.
 */
export class TokenService {
  constructor(
    private readonly cfg: Config['jwt'],
    private readonly clock: Clock,
  ) {}

  sign(user: { id: number; role: Role; email: string; name: string }): string {
    const iat = Math.floor(this.clock.now() / 1000);
    return jwt.sign({ role: user.role, email: user.email, name: user.name, iat, exp: iat + this.cfg.ttlSeconds }, this.cfg.secret, {
      algorithm: ALGORITHM,
      issuer: this.cfg.issuer,
      audience: this.cfg.audience,
      subject: String(user.id),
    });
  }

  /** Returns the user the token names, or throws 401 (TOKEN_EXPIRED or INVALID_TOKEN). */
  verify(token: string): AuthUser {
    let payload: jwt.JwtPayload;
    try {
      payload = jwt.verify(token, this.cfg.secret, {
        algorithms: [ALGORITHM],
        issuer: this.cfg.issuer,
        audience: this.cfg.audience,
        clockTimestamp: Math.floor(this.clock.now() / 1000),
      }) as jwt.JwtPayload;
    } catch (err) {
      if (err instanceof jwt.TokenExpiredError) throw new UnauthorizedError('Your session has expired; sign in again', 'TOKEN_EXPIRED');
      throw new UnauthorizedError('Invalid access token', 'INVALID_TOKEN');
    }
    const id = Number(payload.sub);
    const role = payload.role as Role;
    if (!Number.isInteger(id) || id <= 0 || !ROLES.includes(role) || typeof payload.exp !== 'number') {
      throw new UnauthorizedError('Invalid access token', 'INVALID_TOKEN');
    }
    return { id, role, email: String(payload.email ?? ''), name: String(payload.name ?? ''), expiresAt: payload.exp * 1000 };
  }
}
