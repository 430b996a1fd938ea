// A registered contact as persisted by the location service. Plain data:
// storage never imports SIP code, the registrar maps its objects to this.
export interface StoredBinding {
  aor: string; // extension number, e.g. '1001'
  contactUri: string; // the Contact URI as registered (key with aor)
  contactHeader: string; // full Contact header value as registered (params kept)
  expiresAt: number; // epoch ms
  /** where the REGISTER came from: 'udp:127.0.0.1:5062' (IPv6 in [..]) */
  received: string;
  callId: string;
  cseq: number;
  userAgent: string;
  q: number; // 0..1, default 1
  instanceId: string | null; // +sip.instance (RFC 5626)
  regId: number | null;
  /** the REGISTER's Path header values (RFC 3327), in order: the route set to the phone; absent or empty without */
  path?: string[];
}

export interface LocationPersistence {
  save(b: StoredBinding): Promise<void>;
  remove(aor: string, contactUri: string): Promise<void>;
  removeExpired(now: number): Promise<number>;
  loadAll(): Promise<StoredBinding[]>;
}
