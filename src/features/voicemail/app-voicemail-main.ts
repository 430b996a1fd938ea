// VoiceMailMain([mailbox][@context]) — the owner's side: log in with mailbox
// and PIN, hear how many messages wait, then the Asterisk menu keys:
//   1 listen (first message)  4 previous  6 next  7 delete  9 save (to Old)
//   0 mailbox options (1 unavailable greeting, 2 busy greeting, 3 name,
//     5 change PIN, * back)   * help   # exit
// A message that has been played counts as heard and moves to Old, so the
// phone's lamp goes out once everything new was listened to.
import type { MediaCall, PlayResult } from '../../channel/channel-media.js';
import type { MailboxConfig } from '../../config/config-types.js';
import { checkPin } from '../../security/passwords/index.js';
import type { PinOutcomeSink } from '../../core/pin-outcome.js';
import type { StoredMessage } from './mailbox-store.js';
import type { VoicemailService } from './voicemail-service.js';
import { PROMPTS as P } from './prompts.js';
import { splitArgs, type VoicemailApp } from './app-voicemail.js';

const DIGIT_TIMEOUT_MS = 5000;
const MENU_TIMEOUT_MS = 8000;
/** unanswered menu prompts before we hang up (a caller who walked away) */
const MAX_MENU_REPEATS = 3;
const MENU_KEYS = '0123456789*#';

/**
 * `report` gets every login with the call (whose peer is the caller's
 * address): main.ts turns failures into IDS counts, bans and reputation
 * marks exactly as for a wrong SIP password.
 */
export function createVoiceMailMainApp(vm: VoicemailService, report?: PinOutcomeSink): VoicemailApp {
  return {
    name: 'VoiceMailMain',
    async run(call, rawArgs) {
      const { channel: ch, media } = call;
      const [spec = ''] = splitArgs(rawArgs);
      if (!ch.answered) await ch.answer();
      const box = await login(call, vm, spec, report);
      if (!box) {
        if (!ch.hungUp) {
          await media.play([P.goodbye]);
          await ch.hangup('normal');
        }
        return;
      }
      await mainMenu(call, vm, box);
      if (!ch.hungUp) {
        await media.play([P.goodbye]);
        await ch.hangup('normal');
      }
    },
  };
}

async function login(call: MediaCall, vm: VoicemailService, spec: string, report?: PinOutcomeSink): Promise<MailboxConfig | null> {
  const { channel: ch, media } = call;
  const at = spec.indexOf('@');
  const given = at >= 0 ? spec.slice(0, at) : spec;
  const context = at >= 0 ? spec.slice(at + 1) : 'default';
  for (let attempt = 0; attempt < vm.cfg.maxLoginAttempts; attempt++) {
    if (ch.hungUp) return null;
    let number = given;
    if (number === '') {
      const r = await media.play([P.login], { interruptDigits: '0123456789' });
      if (!r.completed) return null;
      number = await media.readDigits({ maxDigits: 15, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#', initial: r.digit });
    }
    // Ask for the PIN even for an unknown mailbox: the answer must not tell
    // a caller which mailboxes exist.
    const r = await media.play([P.password], { interruptDigits: '0123456789' });
    if (!r.completed) return null;
    const pin = await media.readDigits({ maxDigits: 12, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#', initial: r.digit });
    const box = number === '' ? undefined : vm.mailbox(number, context);
    if (box && pin !== '' && (await vm.store.verifyPin(box, box.pin, pin))) {
      report?.({ ok: true, service: 'VoiceMail', account: number, call: ch });
      return box;
    }
    report?.({
      ok: false,
      service: 'VoiceMail',
      account: number.slice(0, 15),
      unknownAccount: !box,
      call: ch,
      detail: `voicemail login attempt ${attempt + 1} of ${vm.cfg.maxLoginAttempts}`,
    });
    if (ch.hungUp) return null;
    await media.play([P.invalid]);
  }
  return null;
}

/**
 * "You have 2 new messages and 1 old message" / "You have no messages". A
 * key pressed meanwhile is the caller's menu choice: it is returned.
 */
async function announce(call: MediaCall, newCount: number, oldCount: number): Promise<{ completed: boolean; digit?: string }> {
  const { media } = call;
  const o = { interruptDigits: MENU_KEYS };
  let r = await media.play([P.youHave], o);
  if (r.digit || !r.completed) return r;
  const parts: Array<[number, string]> = [];
  if (newCount > 0) parts.push([newCount, P.newWord]);
  if (oldCount > 0) parts.push([oldCount, P.oldWord]);
  if (parts.length === 0) return media.play([P.no, P.messages], o);
  for (const [i, [n, word]] of parts.entries()) {
    if (i > 0) r = await media.play([P.and], o);
    if (!r.digit && r.completed) r = await media.sayNumber(n, o);
    if (!r.digit && r.completed) r = await media.play([word, n === 1 ? P.message : P.messages], o);
    if (r.digit || !r.completed) return r;
  }
  return r;
}

/**
 * Plays message `cur` of `msgs` as Asterisk says it ("first message",
 * "message 2", ..., "last message"); a key pressed meanwhile is returned.
 * Heard (or at least started), it is no longer new: `msgs[cur]` moves to Old.
 */
async function playMessage(call: MediaCall, vm: VoicemailService, msgs: StoredMessage[], cur: number): Promise<string | null> {
  const { media } = call;
  const m = msgs[cur]!;
  const o = { interruptDigits: MENU_KEYS };
  let r: PlayResult;
  if (cur === 0) r = await media.play([P.first, P.message], o);
  else if (cur === msgs.length - 1) r = await media.play([P.last, P.message], o);
  else {
    r = await media.play([P.message], o);
    if (!r.digit && r.completed) r = await media.sayNumber(cur + 1, o);
  }
  if (!r.digit && r.completed) r = await media.play([m.wavPath], o);
  if (m.folder === 'INBOX') msgs[cur] = await vm.markOld(m);
  return r.digit ?? null;
}

async function mainMenu(call: MediaCall, vm: VoicemailService, box: MailboxConfig): Promise<void> {
  const { channel: ch, media } = call;
  let msgs: StoredMessage[] = await vm.messages(box);
  const newCount = msgs.filter((m) => m.folder === 'INBOX').length;
  const said = await announce(call, newCount, msgs.length - newCount);
  if (!said.completed) return;
  let cur = -1;
  let pending: string | null = said.digit ?? null;
  let idle = 0;

  const playCurrent = (): Promise<string | null> => playMessage(call, vm, msgs, cur);

  while (!ch.hungUp) {
    let key = pending;
    pending = null;
    if (key === null) {
      const r = await media.play([P.menu], { interruptDigits: MENU_KEYS });
      if (!r.completed) return;
      key = r.digit ?? (await media.waitDigit(MENU_TIMEOUT_MS));
    }
    if (key === null) {
      if (++idle >= MAX_MENU_REPEATS) return;
      continue;
    }
    idle = 0;
    switch (key) {
      case '1':
        if (msgs.length === 0) {
          await media.play([P.noMore]);
          break;
        }
        cur = 0;
        pending = await playCurrent();
        break;
      case '4':
        if (cur <= 0) {
          await media.play([P.noMore]);
          break;
        }
        cur--;
        pending = await playCurrent();
        break;
      case '6':
        if (cur >= msgs.length - 1) await media.play([P.noMore]);
        else {
          cur++;
          pending = await playCurrent();
        }
        break;
      case '7':
        if (cur < 0 || cur >= msgs.length) {
          await media.play([P.noMore]);
          break;
        }
        await vm.remove(msgs[cur]!);
        msgs.splice(cur, 1);
        // the next message now sits at the same index
        if (cur >= msgs.length) cur = msgs.length - 1;
        await media.play([P.deleted]);
        break;
      case '9':
        if (cur < 0 || cur >= msgs.length) {
          await media.play([P.noMore]);
          break;
        }
        msgs[cur] = await vm.markOld(msgs[cur]!);
        await media.play([P.saved]);
        break;
      case '0':
        await optionsMenu(call, vm, box);
        msgs = await vm.messages(box);
        if (cur >= msgs.length) cur = msgs.length - 1;
        break;
      case '*':
        // the menu prompt is the help text; it plays again at the top of the loop
        break;
      case '#':
        return;
      default:
        await media.play([P.invalid]);
    }
  }
}

async function optionsMenu(call: MediaCall, vm: VoicemailService, box: MailboxConfig): Promise<void> {
  const { channel: ch, media } = call;
  for (let idle = 0; idle < MAX_MENU_REPEATS && !ch.hungUp; ) {
    const r = await media.play([P.options], { interruptDigits: MENU_KEYS });
    if (!r.completed) return;
    const key = r.digit ?? (await media.waitDigit(MENU_TIMEOUT_MS));
    if (key === null) {
      idle++;
      continue;
    }
    idle = 0;
    switch (key) {
      case '1':
        await recordGreeting(call, vm, box, 'unavail', P.recordUnavailable);
        break;
      case '2':
        await recordGreeting(call, vm, box, 'busy', P.recordBusy);
        break;
      case '3':
        await recordGreeting(call, vm, box, 'name', P.recordName);
        break;
      case '5':
        await changePin(call, vm, box);
        break;
      case '*':
      case '#':
        return;
      default:
        await media.play([P.invalid]);
    }
  }
}

async function recordGreeting(call: MediaCall, vm: VoicemailService, box: MailboxConfig, kind: 'unavail' | 'busy' | 'name', prompt: string): Promise<void> {
  const { media } = call;
  const r = await media.play([prompt]);
  if (!r.completed) return;
  const tmp = await vm.store.tempPath(box);
  const rec = await media.record({ path: tmp, maxMs: 60_000, silenceMs: vm.cfg.maxSilenceSeconds * 1000, stopDigits: '#', beep: true });
  if (rec.durationMs < 500 || rec.reason === 'hangup') {
    await vm.discard(tmp);
    return;
  }
  await vm.store.saveGreeting(box, kind, tmp);
  await media.play([P.greetingSaved]);
}

async function changePin(call: MediaCall, vm: VoicemailService, box: MailboxConfig): Promise<void> {
  const { media } = call;
  const read = () => media.readDigits({ maxDigits: 12, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#' });
  let r = await media.play([P.newPassword]);
  if (!r.completed) return;
  const first = await read();
  r = await media.play([P.reenterPassword]);
  if (!r.completed) return;
  const second = await read();
  if (first !== second) {
    await media.play([P.mismatch]);
    return;
  }
  const verdict = checkPin(first, { mailbox: box.number, minLength: vm.cfg.pinMinLength });
  if (!verdict.ok) {
    await media.play([P.weakPassword]);
    return;
  }
  await vm.store.setPin(box, first);
  await media.play([P.passwordChanged]);
}
