// Signing and verifying commands with HMAC-SHA256 on WebCrypto, so the same
// code runs in Node (20 and later) and in browsers.
import { SIGNATURE_VERSION, type SignedCommand, type SignedFrame } from './protocol';

const encoder = new TextEncoder();

async function hmacHex(secret: string, text: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', encoder.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, encoder.encode(text)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Signs a command: the frame carries the exact text and its signature. */
export async function signCommand(secret: string, command: SignedCommand): Promise<SignedFrame> {
  const signed = JSON.stringify(command);
  return { signed, signature: `${SIGNATURE_VERSION}=${await hmacHex(secret, signed)}` };
}

function sameText(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export type FrameVerdict = { ok: true; command: SignedCommand } | { ok: false; reason: 'signature' | 'malformed' | 'foreign' | 'expired' };

/**
 * Checks a frame before acting on it: the signature over its exact text, that it names this agent, and
 * that it has not expired. (De-duplication by command id is the caller's: a re-delivered command is the same.)
 */
export async function verifyCommand(secret: string, frame: SignedFrame, opts: { agentId: string; now?: Date }): Promise<FrameVerdict> {
  if (typeof frame?.signed !== 'string' || typeof frame.signature !== 'string') return { ok: false, reason: 'malformed' };
  if (!sameText(frame.signature, `${SIGNATURE_VERSION}=${await hmacHex(secret, frame.signed)}`)) return { ok: false, reason: 'signature' };
  let command: SignedCommand;
  try {
    command = JSON.parse(frame.signed) as SignedCommand;
  } catch {
    return { ok: false, reason: 'malformed' };
  }
  if (command.kind !== 'command' || typeof command.id !== 'string') return { ok: false, reason: 'malformed' };
  if (command.agentId !== opts.agentId) return { ok: false, reason: 'foreign' };
  if (Date.parse(command.expiresAt) <= (opts.now ?? new Date()).getTime()) return { ok: false, reason: 'expired' };
  return { ok: true, command };
}
