import { Agent, fetch, type Response } from 'undici';
import { privateLiteralHost, publicOnlyLookup } from './target-guard';

/** What one POST to a receiver came to. */
export interface SendResult {
  ok: boolean;
  /** HTTP status of the answer; null when there was none (refused, timed out, DNS). */
  status: number | null;
  /** Why it failed, short (kept in the delivery log); null on success. */
  error: string | null;
}

/** Most of a receiver's error answer kept in the delivery log. */
const ERROR_BODY_BYTES = 200;

/**
 * Connections for webhooks: every connection resolves its host through publicOnlyLookup, so private and reserved
 * addresses are refused at connect time (undici: the engine of Node's own fetch, whose Agent takes the lookup).
 */
const publicOnly = new Agent({ connect: { lookup: publicOnlyLookup } });
/** WEBHOOK_ALLOW_PRIVATE_TARGETS: receivers on the internal network are allowed (on-premises, tests). */
const anyTarget = new Agent();

/**
 * POSTs one webhook: a hard timeout (AbortSignal.timeout), no redirects followed (a 3xx is a failure: the
 * endpoint URL is what the admin registered, nothing else), at most 200 bytes of the answer read, for the log,
 * so a receiver cannot make us buffer a large or endless body, and no private or reserved destination unless
 * `allowPrivateTargets`. Never throws.
 */
export async function postWebhook(
  url: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
  opts: { allowPrivateTargets?: boolean } = {},
): Promise<SendResult> {
  // An address literal never goes through the lookup: check it here.
  const literal = opts.allowPrivateTargets ? undefined : privateLiteralHost(url);
  if (literal) return { ok: false, status: null, error: `EPRIVATETARGET: ${literal} is a private or reserved address` };
  let res: Response;
  try {
    const dispatcher = opts.allowPrivateTargets ? anyTarget : publicOnly;
    res = await fetch(url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs), dispatcher });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why = e.name === 'TimeoutError' ? `timed out after ${timeoutMs} ms` : (e.cause?.code ?? e.cause?.message ?? e.message);
    return { ok: false, status: null, error: String(why).slice(0, 200) };
  }
  if (res.status >= 200 && res.status < 300) {
    await res.body?.cancel().catch(() => undefined);
    return { ok: true, status: res.status, error: null };
  }
  return { ok: false, status: res.status, error: `HTTP ${res.status}${await snippet(res)}` };
}

/** The first bytes of an error answer, as text, then the rest is dropped unread. */
async function snippet(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < ERROR_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
  } catch {
    // A body that breaks off mid-way adds nothing useful; the status says enough.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  const text = Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8').replace(/\s+/g, ' ').trim();
  return text ? `: ${text}` : '';
}
