/** The one error body of the contract, and the acknowledgement every socket command answers with. */
import { z } from 'zod';

/** `{code, message, details?}`: what REST's `error` field and a refused socket command carry. */
export const errorDetail = z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).strict();
export type ErrorBody = z.infer<typeof errorDetail>;

/** The one error body of REST: `{"error": {"code", "message", "details"?}}`. */
export const errorBody = z.object({ error: errorDetail }).strict();

/** A socket command's answer: `{ok: true, data}` or `{ok: false, error}`. */
export type Ack<T> = { ok: true; data: T } | { ok: false; error: ErrorBody };
export type AckFn<T> = (reply: Ack<T>) => void;
