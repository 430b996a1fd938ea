// A small client for Palisade's HTTP API in tests: node:http, so a request
// can leave from a chosen loopback address (an ACL or ban test), and every
// answer comes back with its status, headers and parsed body. A connection
// the server closes without answering resolves as { status: 0, error }.
import { request } from 'node:http';

export interface ApiAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read fields of JSON answers freely
  json: any;
  /** set when the connection was closed or refused without an answer */
  error?: string;
}

export interface ApiCall {
  method?: string;
  path: string;
  token?: string;
  /** cookie header value, e.g. "palisade_session=..." */
  cookie?: string;
  csrf?: string;
  body?: unknown;
  headers?: Record<string, string>;
  localAddress?: string;
}

export function apiCall(base: string, c: ApiCall): Promise<ApiAnswer> {
  const url = new URL(c.path, base);
  const body = c.body === undefined ? undefined : JSON.stringify(c.body);
  const headers: Record<string, string> = { ...c.headers };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (c.cookie) headers.cookie = c.cookie;
  if (c.csrf) headers['x-csrf-token'] = c.csrf;
  return new Promise((resolve) => {
    const req = request(
      { host: url.hostname, port: url.port, path: url.pathname + url.search, method: c.method ?? 'GET', headers, localAddress: c.localAddress, agent: false, timeout: 10_000 },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => {
          text += d;
        });
        res.on('end', () => {
          let json: unknown = null;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON (CSV, metrics, HTML)
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => resolve({ status: 0, headers: {}, text: '', json: null, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** "palisade_session=VALUE" from a Set-Cookie answer */
export function sessionCookie(a: ApiAnswer): string {
  const set = a.headers['set-cookie'];
  const line = (Array.isArray(set) ? set : [set ?? '']).find((l) => l.startsWith('palisade_session='));
  if (!line) throw new Error(`no session cookie in ${JSON.stringify(a.headers)}`);
  return line.split(';')[0]!;
}
