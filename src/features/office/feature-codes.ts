// In-call feature codes, as Asterisk's features.conf: in a Dial() bridge
// whose options let the called party transfer (`t`), that party dials
// `blindxfer` (##) or `atxfer` (*2) on its phone's keypad (RFC 4733 events
// on its RTP, or INFO). The caller is put on hold (music), the transferor
// hears a dial tone and keys the number, ended by # or a pause of
// `transferdigittimeout` seconds. A blind transfer rings the number with the
// caller's identity and hands the caller over when it answers (or parks it:
// ##700); an attended transfer calls the number as the transferor, who
// talks to it and hangs up to join the caller to it (or, if the number
// hangs up instead, is back with the caller). Either is a call by the
// transferring extension for the call gate (channel-transfer.ts).
//
//   office:
//     features:
//       blindxfer: "##"
//       atxfer: "*2"
//       transferdigittimeout: 3
import type { MapReader } from '../../config/yaml-reader.js';
import type { BridgedCall } from '../../channel/channel-features.js';
import { DigitQueue } from '../../channel/digit-queue.js';
import type { FrameSource, MediaEndpoint } from '../../media/media-endpoint.js';
import { Player } from '../../media/player/player.js';
import type { Logger } from '../../observability/logger.js';

export interface FeatureCodesConfig {
  /** blind transfer ('' = off) */
  blindxfer: string;
  /** attended transfer ('' = off) */
  atxfer: string;
  /** seconds to wait for each digit of the transfer target */
  transferdigittimeout: number;
  /** milliseconds between the digits of a feature code */
  featuredigittimeout: number;
  /** only bridges whose Dial() has the t option (Asterisk's rule); false: every Dial() bridge */
  requireDialOption: boolean;
}

export const FEATURE_DEFAULTS: FeatureCodesConfig = { blindxfer: '##', atxfer: '*2', transferdigittimeout: 3, featuredigittimeout: 1000, requireDialOption: true };

/** `office.features` in palisade.yaml */
export function readFeatureCodes(m: MapReader): FeatureCodesConfig {
  const code = (key: string, def: string) =>
    m.string(key, def, { pattern: /^[0-9*#]{0,6}$/, expect: 'expected a code of keypad digits such as "##" or "*2" (quoted in YAML), or "" to turn it off' });
  const blindxfer = code('blindxfer', FEATURE_DEFAULTS.blindxfer);
  const atxfer = code('atxfer', FEATURE_DEFAULTS.atxfer);
  if (blindxfer && atxfer && (blindxfer.endsWith(atxfer) || atxfer.endsWith(blindxfer)))
    m.error('atxfer', `office.features.atxfer "${atxfer}" and blindxfer "${blindxfer}" overlap; choose codes neither of which ends the other`);
  const transferdigittimeout = m.int('transferdigittimeout', FEATURE_DEFAULTS.transferdigittimeout, 1, 30, 'seconds');
  const featuredigittimeout = m.int('featuredigittimeout', FEATURE_DEFAULTS.featuredigittimeout, 100, 5000, 'milliseconds');
  const requireDialOption = m.bool('require_dial_option', FEATURE_DEFAULTS.requireDialOption);
  m.done();
  return { blindxfer, atxfer, transferdigittimeout, featuredigittimeout, requireDialOption };
}

/** the dial tone a transferor hears while it keys the number (350 + 440 Hz, ITU-T E.180 North America) */
export class DialTone implements FrameSource {
  private n = 0;
  stopped = false;
  nextFrame(out: Int16Array): boolean {
    if (this.stopped) return false;
    for (let i = 0; i < out.length; i++, this.n++) {
      const t = this.n / 8000;
      out[i] = Math.round(4000 * (Math.sin(2 * Math.PI * 350 * t) + Math.sin(2 * Math.PI * 440 * t)));
    }
    return true;
  }
}

export interface FeatureCodeDeps {
  prompts: { load(name: string): Int16Array };
  log: Logger;
}

export class FeatureCodes {
  constructor(
    private readonly cfg: FeatureCodesConfig,
    private readonly deps: FeatureCodeDeps,
  ) {}

  /** watch the far party's keypad in a new bridge */
  attach(b: BridgedCall): void {
    const cfg = this.cfg;
    if (!cfg.blindxfer && !cfg.atxfer) return;
    if (cfg.requireDialOption && !b.options.includes('t')) return;
    let buf = '';
    let last = 0;
    let busy = false;
    const off = b.far.endpoint.tapDigits((d) => {
      if (busy) return;
      const now = Date.now();
      if (now - last > cfg.featuredigittimeout) buf = '';
      last = now;
      buf = (buf + d).slice(-12);
      const kind = cfg.blindxfer && buf.endsWith(cfg.blindxfer) ? 'blind' : cfg.atxfer && buf.endsWith(cfg.atxfer) ? 'attended' : null;
      if (!kind) return;
      buf = '';
      busy = true;
      void this.run(b, kind)
        .catch((err: Error) => this.deps.log.error('feature-code-failed', { channel: b.channel.name, error: err.message }))
        .finally(() => (busy = false));
    });
    void b.ended.then(off);
  }

  private async run(b: BridgedCall, kind: 'blind' | 'attended'): Promise<void> {
    const log = this.deps.log;
    log.info('feature-code', { channel: b.channel.name, by: b.far.number, kind });
    b.hold();
    const target = await this.collect(b.far.endpoint, b.ended);
    if (!target) {
      log.info('feature-transfer-abandoned', { channel: b.channel.name, by: b.far.number, kind });
      return b.resume();
    }
    if (kind === 'blind') {
      if ((await b.transfer(target)) === 'SUCCESS') return;
      await this.invalid(b.far.endpoint, b.ended);
      return b.resume();
    }
    const c = await b.consult(target);
    if (!c) {
      await this.invalid(b.far.endpoint, b.ended);
      return b.resume();
    }
    // the consulted party hung up (or took the caller: resume() does nothing then)
    await Promise.race([c.ended, b.ended]);
    b.resume();
  }

  /** the number keyed after the code: dial tone until the first digit, # or a pause ends it */
  private async collect(ep: MediaEndpoint, ended: Promise<void>): Promise<string> {
    // the code's last digit is still being handed to the endpoint's taps: listen from the next turn on
    await new Promise((r) => setImmediate(r));
    const q = new DigitQueue();
    const off = ep.tapDigits((d) => q.push(d));
    const tone = new DialTone();
    ep.source = tone;
    void ended.then(() => q.close());
    const wait = this.cfg.transferdigittimeout * 1000;
    try {
      // twice the pause for the first digit (Asterisk waits transferdigittimeout for each)
      const first = await q.waitDigit(wait * 2);
      tone.stopped = true;
      if (first === null || first === '#') return '';
      const rest = await q.readDigits({ maxDigits: 20, timeoutMs: wait, terminators: '#', initial: first });
      return /^[0-9*]{1,20}$/.test(rest) ? rest : '';
    } finally {
      tone.stopped = true;
      if (ep.source === tone) ep.source = null;
      off();
      q.close();
    }
  }

  /** "invalid" to the transferor before it is back with the caller */
  private async invalid(ep: MediaEndpoint, ended: Promise<void>): Promise<void> {
    let samples: Int16Array[] = [];
    try {
      samples = [this.deps.prompts.load('invalid')];
    } catch {
      return;
    }
    const p = new Player(samples, false);
    ep.source = p;
    await Promise.race([p.done, ended, new Promise((r) => setTimeout(r, 5000).unref())]);
    if (ep.source === p) ep.source = null;
  }
}
