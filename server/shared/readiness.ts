/**
 * One dependency `/readyz` checks (the database, Redis). Defined here, below every layer, because the
 * connections that provide a probe (realtime/redis.ts) sit below the health routes that run them.
 */
export interface ReadinessProbe {
  name: string;
  /** Resolves when the dependency answers; rejects (or times out) when it does not. */
  check(): Promise<void>;
}
