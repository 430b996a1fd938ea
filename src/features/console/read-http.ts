// The `http:` section (docs/configuration.md, `http`): where the REST API,
// the web console and /metrics listen, and the session and token limits.
//
//   http:
//     listen: ["127.0.0.1:8088", "tls:0.0.0.0:8443"]   # tls: uses the tls: section's certificate
//     session_minutes: 30        # idle time before a console session ends
//     token_days: 90             # default lifetime of an API token
//     origins: []                # further origins allowed to call the API (the console's own is always allowed)
//
// Without the section nothing listens. Who may connect is `admin.acl`.
import type { MapReader } from '../../config/yaml-reader.js';
import { parseListen } from '../../config/listen-point.js';

export interface HttpListen {
  tls: boolean;
  address: string;
  port: number;
}

export interface HttpConfig {
  listen: HttpListen[];
  sessionMinutes: number;
  tokenDays: number;
  origins: string[];
}

const EXAMPLE = 'expected ADDRESS:PORT such as 127.0.0.1:8088, or tls:ADDRESS:PORT for HTTPS';

/** null when the configuration has no http: section */
export function readHttp(m: MapReader, hasTls: boolean): HttpConfig | null {
  if (m.keys().length === 0) {
    m.done();
    return null;
  }
  const listen: HttpListen[] = [];
  const items = m.list('listen') ?? [];
  if (items.length === 0) m.error('listen', `${m.path ? `${m.path}.` : ''}listen is required; ${EXAMPLE}`);
  for (const [i, item] of items.entries()) {
    const text = item.text ?? '';
    const tls = text.startsWith('tls:');
    const p = parseListen(tls ? text : text.startsWith('tcp:') ? text : `tcp:${text}`);
    if (typeof p === 'string') {
      m.issues.add(item.offset, `http.listen[${i}] "${text}" ${p.replace(/TRANSPORT:ADDRESS:PORT such as [^)]*/, EXAMPLE).replace(/tcp:/g, '')}`);
      continue;
    }
    if (tls && !hasTls) m.issues.add(item.offset, `http.listen[${i}] "${text}" needs a certificate: add a tls: section (cert, key) as for SIP over TLS`);
    listen.push({ tls, address: p.address, port: p.port });
  }
  const origins: string[] = [];
  for (const [i, item] of (m.list('origins') ?? []).entries()) {
    const t = item.text ?? '';
    if (!/^https?:\/\/[^/\s]+$/.test(t))
      m.issues.add(item.offset, `http.origins[${i}] "${t}" is not an origin; expected such as https://pbx.example.org:8443 (scheme, host, port; no path)`);
    else origins.push(t);
  }
  const out: HttpConfig = {
    listen,
    sessionMinutes: m.int('session_minutes', 30, 1, 1440, 'minutes'),
    tokenDays: m.int('token_days', 90, 1, 3650, 'days'),
    origins,
  };
  m.done();
  return out;
}
