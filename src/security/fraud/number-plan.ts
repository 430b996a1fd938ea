// The number plan: which class a dialled number belongs to, and its E.164
// form (country code + national number, digits only) where one can be
// derived. Classes drive call permissions (docs/configuration.md, toll-fraud guard).
//
// The default plan is E.164-ish and documented in docs/configuration.md
// (`numbering`): international prefixes 00 and 011 (and a leading +),
// national prefix 0, NANP-style 1 + 10 digits as national, emergency 112,
// 911, 999; premium 09… nationally, 1900/1976 (NANP) and the international
// premium/satellite ranges +881, +882, +883, +979; mobile 07… nationally.
// Anything left with no prefix and 3–8 digits is local; every other string
// (letters, *, #, absurd lengths) is classed international, the strictest
// paid class, so an odd dial string can never slip through as cheap.
import { PrefixMap } from './prefix-map.js';

export const CALL_CLASSES = ['internal', 'local', 'national', 'mobile', 'international', 'premium', 'emergency'] as const;
export type CallClass = (typeof CALL_CLASSES)[number];

export interface NumberingConfig {
  /** E.164 country code of this PBX, digits (e.g. "44"); '' = unknown (national numbers then have no E.164 form) */
  countryCode: string;
  nationalPrefix: string;
  internationalPrefixes: string[];
  emergency: string[];
  /** national-format prefixes (with national prefix), e.g. "09" */
  premium: string[];
  /** E.164 prefixes (country code first) classed premium wherever dialled, e.g. "881" */
  premiumInternational: string[];
  mobile: string[];
  localMinDigits: number;
  localMaxDigits: number;
}

export const DEFAULT_NUMBERING: NumberingConfig = {
  countryCode: '',
  nationalPrefix: '0',
  internationalPrefixes: ['00', '011'],
  emergency: ['112', '911', '999'],
  premium: ['09', '1900', '1976'],
  premiumInternational: ['881', '882', '883', '979'],
  mobile: ['07'],
  localMinDigits: 3,
  localMaxDigits: 8,
};

export interface Classified {
  cls: CallClass;
  /** E.164 digits (no +) when derivable, else null */
  e164: string | null;
}

function allDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

export class NumberPlan {
  private readonly emergency: Set<string>;
  private readonly premium = new PrefixMap<true>();
  private readonly premiumIntl = new PrefixMap<true>();
  private readonly mobile = new PrefixMap<true>();
  private readonly intlPrefixes: string[];

  constructor(readonly cfg: NumberingConfig = DEFAULT_NUMBERING) {
    this.emergency = new Set(cfg.emergency);
    for (const p of cfg.premium) this.premium.set(p, true);
    for (const p of cfg.premiumInternational) this.premiumIntl.set(p, true);
    for (const p of cfg.mobile) this.mobile.set(p, true);
    // longest first: "011" must win over a hypothetical "01"
    this.intlPrefixes = [...cfg.internationalPrefixes].sort((a, b) => b.length - a.length);
  }

  isEmergency(dialled: string): boolean {
    return this.emergency.has(dialled);
  }

  /** classify a dialled string; `isInternal` says whether it is one of our extensions */
  classify(dialled: string, isInternal: (n: string) => boolean): Classified {
    // emergency first: it must never be mistaken for anything blockable
    if (this.emergency.has(dialled)) return { cls: 'emergency', e164: null };
    if (isInternal(dialled)) return { cls: 'internal', e164: null };
    const e164 = this.toE164(dialled);
    if (e164 !== null && this.premiumIntl.match(e164)) return { cls: 'premium', e164 };
    if (!allDigits(dialled)) return { cls: e164 !== null ? this.foreignOrNational(e164) : 'international', e164 };
    // premium before mobile/national: "09…" starts with the national prefix too
    if (this.premium.match(dialled)) return { cls: 'premium', e164 };
    for (const p of this.intlPrefixes) {
      if (dialled.startsWith(p)) return { cls: e164 !== null ? this.foreignOrNational(e164) : 'international', e164 };
    }
    if (this.mobile.match(dialled)) return { cls: 'mobile', e164 };
    const np = this.cfg.nationalPrefix;
    if (np && dialled.startsWith(np) && dialled.length > np.length + 5) return { cls: 'national', e164 };
    // NANP long distance: 1 + 10 digits
    if (dialled.length === 11 && dialled.charCodeAt(0) === 49) return { cls: 'national', e164 };
    if (dialled.length >= this.cfg.localMinDigits && dialled.length <= this.cfg.localMaxDigits) return { cls: 'local', e164 };
    return { cls: 'international', e164 };
  }

  /** an E.164 number in our own country is national, anything else international */
  private foreignOrNational(e164: string): CallClass {
    const cc = this.cfg.countryCode;
    if (cc && e164.startsWith(cc)) {
      const national = this.cfg.nationalPrefix + e164.slice(cc.length);
      if (this.premium.match(national)) return 'premium';
      if (this.mobile.match(national)) return 'mobile';
      return 'national';
    }
    return 'international';
  }

  /** the E.164 digits of a dialled number, or null when it has no derivable E.164 form */
  toE164(dialled: string): string | null {
    if (dialled.startsWith('+')) {
      const rest = dialled.slice(1);
      return allDigits(rest) ? rest : null;
    }
    if (!allDigits(dialled)) return null;
    for (const p of this.intlPrefixes) if (dialled.startsWith(p)) return dialled.length > p.length ? dialled.slice(p.length) : null;
    const np = this.cfg.nationalPrefix;
    if (this.cfg.countryCode && np && dialled.startsWith(np) && dialled.length > np.length + 5) return this.cfg.countryCode + dialled.slice(np.length);
    return null;
  }
}
