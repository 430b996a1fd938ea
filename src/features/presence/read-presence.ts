// The `presence:` section (docs/configuration.md, `presence`):
//
//   presence:
//     enabled: true
//     watchers: same-context     # or all: who may SUBSCRIBE to whose presence
//     max_expires: 3600          # longest subscription and publication (seconds)
//     publish_min_expires: 60    # a shorter PUBLISH gets 423
import type { MapReader } from '../../config/yaml-reader.js';

export interface PresenceConfig {
  enabled: boolean;
  watchers: 'same-context' | 'all';
  maxExpires: number;
  publishMinExpires: number;
}

export const DEFAULT_PRESENCE: PresenceConfig = { enabled: true, watchers: 'same-context', maxExpires: 3600, publishMinExpires: 60 };

export function readPresence(m: MapReader): PresenceConfig {
  const d = DEFAULT_PRESENCE;
  const out: PresenceConfig = {
    enabled: m.bool('enabled', d.enabled),
    watchers: m.oneOf('watchers', d.watchers, ['same-context', 'all'] as const),
    maxExpires: m.int('max_expires', d.maxExpires, 60, 86_400, 'seconds'),
    publishMinExpires: m.int('publish_min_expires', d.publishMinExpires, 1, 3600, 'seconds'),
  };
  m.done();
  return out;
}
