// The `messaging:` section: SIP MESSAGE between extensions (RFC 3428), the
// store-and-forward queue for extensions that are offline, the limits that
// keep a sender from flooding or spamming, and the dialplan context that
// may answer messages (docs/configuration.md, `messaging`).
//
//   messaging:
//     enabled: true
//     max_body: 4096            # bytes of one message body
//     store_for: 604800         # seconds an undelivered message is kept (0 = not stored)
//     store_max: 100            # undelivered messages kept per recipient
//     rate_per_user: 60         # messages a minute one extension may send
//     max_recipients: 20        # distinct recipients a minute one sender may write to
//     flood_rate: 20            # MESSAGE requests a second from one address: more is a flood, banned
//     context: messages         # dialplan context messages are run through (absent: delivered directly)
import type { MapReader } from '../../config/yaml-reader.js';

export interface MessagingConfig {
  enabled: boolean;
  maxBody: number;
  storeForSec: number;
  storeMax: number;
  ratePerUser: number;
  maxRecipients: number;
  floodRate: number;
  context: string | null;
}

export const DEFAULT_MESSAGING: MessagingConfig = {
  enabled: true,
  maxBody: 4096,
  storeForSec: 7 * 86400,
  storeMax: 100,
  ratePerUser: 60,
  maxRecipients: 20,
  floodRate: 20,
  context: null,
};

export function readMessaging(m: MapReader): MessagingConfig {
  const d = DEFAULT_MESSAGING;
  const out: MessagingConfig = {
    enabled: m.bool('enabled', d.enabled),
    maxBody: m.int('max_body', d.maxBody, 1, 60_000, 'bytes'),
    storeForSec: m.int('store_for', d.storeForSec, 0, 365 * 86400, 'seconds (0 = undelivered messages are not kept)'),
    storeMax: m.int('store_max', d.storeMax, 1, 100_000, 'messages per recipient'),
    ratePerUser: m.int('rate_per_user', d.ratePerUser, 1, 100_000, 'messages a minute'),
    maxRecipients: m.int('max_recipients', d.maxRecipients, 1, 100_000, 'distinct recipients a minute'),
    floodRate: m.int('flood_rate', d.floodRate, 0, 100_000, 'MESSAGE requests a second from one address (0 = off)'),
    context: m.optionalString('context', { pattern: /^[A-Za-z0-9_-]{1,64}$/, expect: 'expected a dialplan context name such as messages' }),
  };
  m.done();
  return out;
}
