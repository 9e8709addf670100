// Signing and verifying commands and tasks with HMAC-SHA256 on WebCrypto, so the same
// code runs in Node (20 and later) and in browsers.
import { SIGNATURE_VERSION, type SignedCommand, type SignedFrame, type SignedTask } from './protocol';

const encoder = new TextEncoder();

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

export type SignedBody = SignedCommand | SignedTask;

/** Signs a command or a task: the frame carries the exact text and its signature. */
export async function signFrame(secret: string, body: SignedBody): Promise<SignedFrame> {
  const signed = JSON.stringify(body);
  return { signed, signature: `${SIGNATURE_VERSION}=${await hmacHex(secret, signed)}` };
}

function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type FrameVerdict<B extends SignedBody> = { ok: true; body: B } | { ok: false; reason: 'signature' | 'malformed' | 'foreign' | 'expired' };

/**
 * Checks a frame before acting on it: the signature over its exact text, that it is of the kind expected,
 * that it names this agent, and that it has not expired. (De-duplication by id is the caller's: a re-delivery is the same.)
 */
export async function verifyFrame<K extends SignedBody['kind']>(
  secret: string, frame: SignedFrame, opts: { kind: K; agentId: string; now?: Date },
): Promise<FrameVerdict<Extract<SignedBody, { kind: K }>>> {
  if (typeof frame?.signed !== 'string' || typeof frame.signature !== 'string') return { ok: false, reason: 'malformed' };
  if (!sameText(frame.signature, `${SIGNATURE_VERSION}=${await hmacHex(secret, frame.signed)}`)) return { ok: false, reason: 'signature' };
  let body: SignedBody;
  try {
    body = JSON.parse(frame.signed) as SignedBody;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (body.kind !== opts.kind || typeof body.id !== 'string') return { ok: false, reason: 'malformed' };
  if (body.agentId !== opts.agentId) return { ok: false, reason: 'foreign' };
  if (Date.parse(body.expiresAt) <= (opts.now ?? new Date()).getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, body: body as Extract<SignedBody, { kind: K }> };
}
