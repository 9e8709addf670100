// The outbound adapters this build ships: the webhook channel POSTs JSON to
// MC_WEBHOOK_URL with the send's idempotency key, so a receiver applies a
// message sent twice (after a crash) once. Other channels have no adapter yet.
import type { Config } from '../lib/config';
import { OutboundRejectedError, type Adapters } from '../core/safety/outbound';

export function createAdapters(config: Pick<Config, 'MC_WEBHOOK_URL'>): Adapters {
  if (!config.MC_WEBHOOK_URL) return {};
  const url = config.MC_WEBHOOK_URL;
  return {
    webhook: {
      async send(message, opts) {
        const signal = opts?.signal ? AbortSignal.any([opts.signal, AbortSignal.timeout(10_000)]) : AbortSignal.timeout(10_000);
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Idempotency-Key': message.idempotencyKey, 'User-Agent': 'mission-control' },
          body: JSON.stringify({ channel: message.channel, payload: message.payload }),
          signal,
        });
        const text = await res.text();
        // The receiver answered: a 4xx says it will never take this message; a 5xx that it did not take it now.
        if (!res.ok) throw new OutboundRejectedError(`webhook answered ${res.status}`);
        return { status: res.status, body: text.slice(0, 2000) };
      },
    },
  };
}
