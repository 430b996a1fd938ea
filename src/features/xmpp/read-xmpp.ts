// The `xmpp:` section: Palisade's users as the XMPP users of a Prosody
// server beside it (docs/operations.md, "Chat: Prosody beside Palisade").
//
//   xmpp:
//     auth_socket: var/xmpp-auth.sock   # Prosody's mod_auth_dovecot asks here (a Unix socket, never the network)
//     prosody_config: /etc/prosody/prosody.cfg.lua   # read by `palisade audit` (TLS required, no plaintext auth)
//     max_failures: 5                   # wrong passwords for one account within a minute before it is refused for a minute
import { resolve } from 'node:path';
import type { MapReader } from '../../config/yaml-reader.js';

export interface XmppConfig {
  authSocket: string | null;
  prosodyConfig: string | null;
  maxFailures: number;
}

/** `baseDir`: the configuration file's folder, which relative paths are taken from */
export function readXmpp(m: MapReader, baseDir: string): XmppConfig {
  const base = baseDir;
  const sock = m.optionalString('auth_socket', { expect: 'expected a Unix socket path such as var/xmpp-auth.sock' });
  const prosody = m.optionalString('prosody_config', { expect: 'expected the path of prosody.cfg.lua' });
  const out: XmppConfig = {
    authSocket: sock === null ? null : resolve(base, sock),
    prosodyConfig: prosody === null ? null : resolve(base, prosody),
    maxFailures: m.int('max_failures', 5, 1, 1000, 'failures a minute per account'),
  };
  m.done();
  return out;
}
