// User agents of SIP attack tools. They can change it, so this is only a
// cheap first filter; the failure-count and flood rules catch the rest.
export const DEFAULT_SCANNER_AGENTS: readonly string[] = [
  'friendly-scanner', // sipvicious' default
  'sipvicious',
  'sipcli',
  'vaxsipuseragent',
  'pplsip',
  'iwar',
  'sundayddr',
  'sip-scan',
  'siparmyknife',
  'smap',
  'sipscan',
  'voip-scanner',
];

/** case-insensitive substring matcher over a fixed list */
export class ScannerMatcher {
  private readonly needles: string[];
  constructor(agents: readonly string[]) {
    this.needles = agents.map((a) => a.toLowerCase()).filter((a) => a !== '');
  }
  match(userAgent: string | undefined): string | undefined {
    if (!userAgent || this.needles.length === 0) return undefined;
    const ua = userAgent.toLowerCase();
    for (const n of this.needles) if (ua.includes(n)) return n;
    return undefined;
  }
}
