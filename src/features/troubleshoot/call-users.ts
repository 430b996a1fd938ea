// The users a call's first request names: the Request-URI, From and To user
// parts and the digest username. Run once per new Call-ID, not per packet.

const URI_USER = /sips?:([^@;>\s:]+)@/i;

export function callUsers(data: Buffer, bodyStart: number): string[] {
  const head = data.toString('latin1', 0, bodyStart);
  const out = new Set<string>();
  const lines = head.split('\n');
  const ruri = URI_USER.exec(lines[0] ?? '');
  if (ruri) out.add(decodeUser(ruri[1]!));
  for (let k = 1; k < lines.length; k++) {
    const line = lines[k]!;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1);
    if (name === 'from' || name === 'f' || name === 'to' || name === 't') {
      const m = URI_USER.exec(value);
      if (m) out.add(decodeUser(m[1]!));
    } else if (name === 'authorization' || name === 'proxy-authorization') {
      const m = /\busername\s*=\s*"?([^",\s]+)/i.exec(value);
      if (m) out.add(m[1]!);
    }
  }
  return [...out];
}

function decodeUser(u: string): string {
  try {
    return decodeURIComponent(u);
  } catch {
    return u;
  }
}
