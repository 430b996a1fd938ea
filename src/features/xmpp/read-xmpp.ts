// The `xmpp:` section: Palisade's users as the XMPP users of a Prosody
// server beside it (docs/operations.md, "Chat: Prosody beside Palisade").
//
//   xmpp:
//     auth_socket: var/xmpp-auth.sock   # Prosody's mod_auth_dovecot asks here (a Unix socket, never the network)
//     prosody_config: /etc/prosody/prosody.cfg.lua   # read by `palisade audit` (TLS required, no plaintext auth)
//     max_failures: 5                   # wrong passwords for one account within a minute before it is refused for a minute
//     domain: example.org               # the chat users' domain (Prosody's VirtualHost)
//     component:                        # the bridge, an XEP-0114 component of that Prosody
//       domain: sip.example.org
//       port: 5347                      # Prosody's component_ports, on 127.0.0.1 (or host:)
//       secret: ...                     # component_secret, 16 characters or more
import { resolve } from 'node:path';
import type { MapReader } from '../../config/yaml-reader.js';

export interface XmppComponentConfig {
  domain: string;
  host: string;
  port: number;
  secret: string;
}

export interface XmppConfig {
  authSocket: string | null;
  prosodyConfig: string | null;
  maxFailures: number;
  /** the chat users' domain */
  domain: string | null;
  component: XmppComponentConfig | null;
}

const DOMAIN = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i;

/** `baseDir`: the configuration file's folder, which relative paths are taken from */
export function readXmpp(m: MapReader, baseDir: string): XmppConfig {
  const base = baseDir;
  const sock = m.optionalString('auth_socket', { expect: 'expected a Unix socket path such as var/xmpp-auth.sock' });
  const prosody = m.optionalString('prosody_config', { expect: 'expected the path of prosody.cfg.lua' });
  const out: XmppConfig = {
    authSocket: sock === null ? null : resolve(base, sock),
    prosodyConfig: prosody === null ? null : resolve(base, prosody),
    maxFailures: m.int('max_failures', 5, 1, 1000, 'failures a minute per account'),
    domain: m.optionalString('domain', { pattern: DOMAIN, expect: 'expected the chat domain such as example.org' }),
    component: null,
  };
  if (m.has('component')) {
    const c = m.child('component');
    const domain = c.string('domain', '', { required: true, pattern: DOMAIN, expect: 'expected the component domain such as sip.example.org' });
    const host = c.string('host', '127.0.0.1', { expect: 'expected the address of Prosody such as 127.0.0.1' });
    const port = c.int('port', 5347, 1, 65535);
    const secret = c.string('secret', '', { required: true, expect: 'expected component_secret of Prosody (16 characters or more)' });
    if (secret !== '' && secret.length < 16) c.error('secret', "xmpp.component.secret is too short; use 16 characters or more (the same as Prosody's component_secret)");
    c.done();
    if (out.domain === null) m.error('component', "xmpp.component needs xmpp.domain, the chat users' domain");
    out.component = { domain, host, port, secret };
  }
  m.done();
  return out;
}
