// What a stored trace must never hold (docs/troubleshooting.md): the values of
// Authorization and Proxy-Authorization (digest responses are offline-
// guessable), and SDES keys (RFC 4568 a=crypto inline: key material, which
// decrypts the call's SRTP). Headers are rewritten freely; the body keeps its
// length (each key character becomes X) so Content-Length stays true and the
// message still decodes.

const AUTH_HEADERS = new Set(['authorization', 'proxy-authorization']);

/** the digest username, kept: it names who tried, and is no secret */
function authReplacement(value: string): string {
  const scheme = /^\s*(\S+)/.exec(value)?.[1] ?? 'Digest';
  const user = /\busername\s*=\s*("[^"]*"|[^\s,]+)/i.exec(value)?.[1];
  return `${scheme} ${user ? `username=${user}, ` : ''}[redacted by Palisade]`;
}

/** a=crypto:TAG SUITE inline:KEY|lifetime|MKI (and further inline params), a=key-mgmt:... */
function redactSdpLine(line: string): string {
  const l = line.toLowerCase();
  if (l.startsWith('a=crypto:')) return line.replace(/inline:([^|\s;]+)/gi, (_m, key: string) => 'inline:' + 'X'.repeat(key.length));
  if (l.startsWith('a=key-mgmt:')) return line.slice(0, 11) + 'X'.repeat(line.length - 11);
  return line;
}

/** a copy of `data` with secrets replaced; `bodyStart` from scanSip (data.length when none) */
export function redactSipMessage(data: Buffer, bodyStart: number): Buffer {
  const head = data.toString('latin1', 0, bodyStart);
  // lines keep their own CR; a folded continuation (RFC 3261 §7.3.1) belongs to the header above
  const lines = head.split('\n');
  let changed = false;
  let inAuth = false;
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    const cr = line.endsWith('\r') ? '\r' : '';
    if (line.startsWith(' ') || line.startsWith('\t')) {
      if (inAuth) {
        lines[k] = '\u0000';
        changed = true;
      }
      continue;
    }
    inAuth = false;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (AUTH_HEADERS.has(name)) {
      let value = line.slice(colon + 1, line.length - cr.length);
      for (let c = k + 1; c < lines.length && (lines[c]!.startsWith(' ') || lines[c]!.startsWith('\t')); c++) value += ' ' + lines[c]!.trim();
      lines[k] = line.slice(0, colon + 1) + ' ' + authReplacement(value) + cr;
      inAuth = true;
      changed = true;
    }
  }
  let body = data.subarray(bodyStart);
  if (body.length > 0 && /a=(crypto|key-mgmt):/i.test(body.toString('latin1'))) {
    const text = body.toString('latin1');
    const out = text
      .split('\n')
      .map((l) => redactSdpLine(l))
      .join('\n');
    body = Buffer.from(out, 'latin1');
    changed = true;
  }
  if (!changed) return Buffer.from(data);
  const newHead = lines.filter((l) => l !== '\u0000').join('\n');
  return Buffer.concat([Buffer.from(newHead, 'latin1'), body]);
}
