// VoiceMailMain([mailbox][@context]) — the owner's side: log in with mailbox
// and PIN, hear how many messages wait, then the Asterisk menu keys:
//   1 listen (first message)  4 previous  6 next  7 delete  9 save (to Old)
//   0 mailbox options (1 unavailable greeting, 2 busy greeting, 3 name,
//     5 change PIN, * back)   * help   # exit
// A message that has been played counts as heard and moves to Old, so the
// phone's lamp goes out once everything new was listened to.
import type { Channel, PlayResult } from '../../channel/channel.js';
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
    async run(ch, rawArgs) {
      const [spec = ''] = splitArgs(rawArgs);
      if (!ch.answered) await ch.answer();
      const box = await login(ch, vm, spec, report);
      if (!box) {
        if (!ch.hungUp) {
          await ch.play([P.goodbye]);
          await ch.hangup('normal');
        }
        return;
      }
      await mainMenu(ch, vm, box);
      if (!ch.hungUp) {
        await ch.play([P.goodbye]);
        await ch.hangup('normal');
      }
    },
  };
}

async function login(ch: Channel, vm: VoicemailService, spec: string, report?: PinOutcomeSink): Promise<MailboxConfig | null> {
  const at = spec.indexOf('@');
  const given = at >= 0 ? spec.slice(0, at) : spec;
  const context = at >= 0 ? spec.slice(at + 1) : 'default';
  for (let attempt = 0; attempt < vm.cfg.maxLoginAttempts; attempt++) {
    if (ch.hungUp) return null;
    let number = given;
    if (number === '') {
      const r = await ch.play([P.login], { interruptDigits: '0123456789' });
      if (!r.completed) return null;
      number = await ch.readDigits({ maxDigits: 15, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#', initial: r.digit });
    }
    // Ask for the PIN even for an unknown mailbox: the answer must not tell
    // a caller which mailboxes exist.
    const r = await ch.play([P.password], { interruptDigits: '0123456789' });
    if (!r.completed) return null;
    const pin = await ch.readDigits({ maxDigits: 12, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#', initial: r.digit });
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
    await ch.play([P.invalid]);
  }
  return null;
}

/**
 * "You have 2 new messages and 1 old message" / "You have no messages". A
 * key pressed meanwhile is the caller's menu choice: it is returned.
 */
async function announce(ch: Channel, newCount: number, oldCount: number): Promise<{ completed: boolean; digit?: string }> {
  const o = { interruptDigits: MENU_KEYS };
  let r = await ch.play([P.youHave], o);
  if (r.digit || !r.completed) return r;
  const parts: Array<[number, string]> = [];
  if (newCount > 0) parts.push([newCount, P.newWord]);
  if (oldCount > 0) parts.push([oldCount, P.oldWord]);
  if (parts.length === 0) return ch.play([P.no, P.messages], o);
  for (const [i, [n, word]] of parts.entries()) {
    if (i > 0) r = await ch.play([P.and], o);
    if (!r.digit && r.completed) r = await ch.sayNumber(n, o);
    if (!r.digit && r.completed) r = await ch.play([word, n === 1 ? P.message : P.messages], o);
    if (r.digit || !r.completed) return r;
  }
  return r;
}

async function mainMenu(ch: Channel, vm: VoicemailService, box: MailboxConfig): Promise<void> {
  let msgs: StoredMessage[] = await vm.messages(box);
  const newCount = msgs.filter((m) => m.folder === 'INBOX').length;
  const said = await announce(ch, newCount, msgs.length - newCount);
  if (!said.completed) return;
  let cur = -1;
  let pending: string | null = said.digit ?? null;
  let idle = 0;

  const playCurrent = async (): Promise<string | null> => {
    const m = msgs[cur]!;
    // as Asterisk says it: "first message", "message 2", ..., "last message"
    let r: PlayResult;
    if (cur === 0) r = await ch.play([P.first, P.message], { interruptDigits: MENU_KEYS });
    else if (cur === msgs.length - 1) r = await ch.play([P.last, P.message], { interruptDigits: MENU_KEYS });
    else {
      r = await ch.play([P.message], { interruptDigits: MENU_KEYS });
      if (!r.digit && r.completed) r = await ch.sayNumber(cur + 1, { interruptDigits: MENU_KEYS });
    }
    if (!r.digit && r.completed) r = await ch.play([m.wavPath], { interruptDigits: MENU_KEYS });
    // heard (or at least started): it is no longer new
    if (m.folder === 'INBOX') msgs[cur] = await vm.markOld(m);
    return r.digit ?? null;
  };

  while (!ch.hungUp) {
    let key = pending;
    pending = null;
    if (key === null) {
      const r = await ch.play([P.menu], { interruptDigits: MENU_KEYS });
      if (!r.completed) return;
      key = r.digit ?? (await ch.waitDigit(MENU_TIMEOUT_MS));
    }
    if (key === null) {
      if (++idle >= MAX_MENU_REPEATS) return;
      continue;
    }
    idle = 0;
    switch (key) {
      case '1':
        if (msgs.length === 0) {
          await ch.play([P.noMore]);
          break;
        }
        cur = 0;
        pending = await playCurrent();
        break;
      case '4':
        if (cur <= 0) {
          await ch.play([P.noMore]);
          break;
        }
        cur--;
        pending = await playCurrent();
        break;
      case '6':
        if (cur >= msgs.length - 1) await ch.play([P.noMore]);
        else {
          cur++;
          pending = await playCurrent();
        }
        break;
      case '7':
        if (cur < 0 || cur >= msgs.length) {
          await ch.play([P.noMore]);
          break;
        }
        await vm.remove(msgs[cur]!);
        msgs.splice(cur, 1);
        // the next message now sits at the same index
        if (cur >= msgs.length) cur = msgs.length - 1;
        await ch.play([P.deleted]);
        break;
      case '9':
        if (cur < 0 || cur >= msgs.length) {
          await ch.play([P.noMore]);
          break;
        }
        msgs[cur] = await vm.markOld(msgs[cur]!);
        await ch.play([P.saved]);
        break;
      case '0':
        await optionsMenu(ch, vm, box);
        msgs = await vm.messages(box);
        if (cur >= msgs.length) cur = msgs.length - 1;
        break;
      case '*':
        // the menu prompt is the help text; it plays again at the top of the loop
        break;
      case '#':
        return;
      default:
        await ch.play([P.invalid]);
    }
  }
}

async function optionsMenu(ch: Channel, vm: VoicemailService, box: MailboxConfig): Promise<void> {
  for (let idle = 0; idle < MAX_MENU_REPEATS && !ch.hungUp; ) {
    const r = await ch.play([P.options], { interruptDigits: MENU_KEYS });
    if (!r.completed) return;
    const key = r.digit ?? (await ch.waitDigit(MENU_TIMEOUT_MS));
    if (key === null) {
      idle++;
      continue;
    }
    idle = 0;
    switch (key) {
      case '1':
        await recordGreeting(ch, vm, box, 'unavail', P.recordUnavailable);
        break;
      case '2':
        await recordGreeting(ch, vm, box, 'busy', P.recordBusy);
        break;
      case '3':
        await recordGreeting(ch, vm, box, 'name', P.recordName);
        break;
      case '5':
        await changePin(ch, vm, box);
        break;
      case '*':
      case '#':
        return;
      default:
        await ch.play([P.invalid]);
    }
  }
}

async function recordGreeting(ch: Channel, vm: VoicemailService, box: MailboxConfig, kind: 'unavail' | 'busy' | 'name', prompt: string): Promise<void> {
  const r = await ch.play([prompt]);
  if (!r.completed) return;
  const tmp = await vm.store.tempPath(box);
  const rec = await ch.record({ path: tmp, maxMs: 60_000, silenceMs: vm.cfg.maxSilenceSeconds * 1000, stopDigits: '#', beep: true });
  if (rec.durationMs < 500 || rec.reason === 'hangup') {
    await vm.discard(tmp);
    return;
  }
  await vm.store.saveGreeting(box, kind, tmp);
  await ch.play([P.greetingSaved]);
}

async function changePin(ch: Channel, vm: VoicemailService, box: MailboxConfig): Promise<void> {
  const read = () => ch.readDigits({ maxDigits: 12, timeoutMs: DIGIT_TIMEOUT_MS, terminators: '#' });
  let r = await ch.play([P.newPassword]);
  if (!r.completed) return;
  const first = await read();
  r = await ch.play([P.reenterPassword]);
  if (!r.completed) return;
  const second = await read();
  if (first !== second) {
    await ch.play([P.mismatch]);
    return;
  }
  const verdict = checkPin(first, { mailbox: box.number, minLength: vm.cfg.pinMinLength });
  if (!verdict.ok) {
    await ch.play([P.weakPassword]);
    return;
  }
  await vm.store.setPin(box, first);
  await ch.play([P.passwordChanged]);
}
