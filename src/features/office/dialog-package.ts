// Busy-lamp fields: the `dialog` event package (RFC 4235) served by the
// RFC 6665 event server. A phone's BLF key subscribes to a colleague's
// number; the resource exists when the dialplan has a `hint` for it
// (`exten => 1002,hint,SIP/1002`, Asterisk's syntax, several devices joined
// by &). Its state is built from the call events (src/core/call-events.ts):
// one <dialog> per call a hinted device is in — `early` while it rings or
// rings out, `confirmed` once answered, no dialog when idle (full state,
// RFC 4235 §4.1) — so the lamp blinks, lights and goes dark. The remote
// identity of a ringing dialog tells the phone who calls. Each phone
// ringing in an early dialog of its own (a Dial() or a direct call forks to
// every registered phone) is a <dialog> with the call-id, local-tag (the
// phone's) and remote-tag of that dialog as the rung phone sees it, which
// is what a phone's BLF key copies into the Replaces of the INVITE that
// picks the call up (RFC 3891; pickup.ts). The remote-tag shown is a
// stand-in Palisade keeps for that dialog, not the tag of its INVITE
// (src/core/call-events.ts, EarlyDialog): every watcher sees it, and the
// real tags would name the dialog once answered, which a Replaces could
// then take over as an attended transfer.
import type { EventPackage, EventRegistry, SubscriptionInfo, EndReason } from '../../sip/events/index.js';
import type { CallEvent } from '../../core/call-events.js';
import type { Logger } from '../../observability/logger.js';

export const DIALOG_EVENT = 'dialog';
export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';

/** what the package reads of the calls in progress */
export interface CallView {
  activeCalls(): CallEvent[];
}

export interface DialogPackageOptions {
  domain: string;
  /** the devices (extension numbers) a hinted number stands for; undefined when it has no hint */
  hintDevices(resource: string): readonly string[] | undefined;
  calls: CallView;
  log: Logger;
  maxExpires?: number;
}

type DialogState = 'trying' | 'early' | 'confirmed';

interface DialogView {
  id: string;
  callId?: string;
  /** the monitored phone's tag and the other side's (RFC 4235 local-tag, remote-tag) */
  localTag?: string;
  remoteTag?: string;
  direction: 'initiator' | 'recipient';
  state: DialogState;
  /** the other party's number */
  remote: string;
  local: string;
}

export class DialogPackage implements EventPackage {
  readonly name = DIALOG_EVENT;
  readonly accept = [DIALOG_INFO_TYPE];
  readonly expires: EventPackage['expires'];
  /** RFC 4235 §4.1.2: version counts the documents sent; one counter per resource */
  private readonly versions = new Map<string, number>();

  constructor(
    private readonly o: DialogPackageOptions,
    private readonly events: Pick<EventRegistry, 'notify'>,
  ) {
    this.expires = { min: 60, max: o.maxExpires ?? 3600, default: 3600 };
  }

  /** any authenticated extension may watch a hinted colleague (the office's BLF keys) */
  authorize(_subscriber: string, _resource: string): boolean {
    return true;
  }

  exists(resource: string): boolean {
    return this.o.hintDevices(resource) !== undefined;
  }

  async body(resource: string): Promise<string> {
    const version = this.versions.get(resource) ?? 0;
    this.versions.set(resource, version + 1);
    return dialogInfo(`sip:${resource}@${this.o.domain}`, version, this.dialogsOf(resource), this.o.domain);
  }

  /** the calls the hinted devices of `resource` are in, as dialogs */
  dialogsOf(resource: string): DialogView[] {
    const devices = this.o.hintDevices(resource) ?? [];
    const out: DialogView[] = [];
    for (const c of this.o.calls.activeCalls()) {
      for (const dev of devices) {
        if (c.fromExtension === dev) {
          out.push({
            id: `${c.callId}-o`,
            callId: c.sipCallId,
            direction: 'initiator',
            state: c.phase === 'answered' ? 'confirmed' : c.phase === 'ringing' ? 'early' : 'trying',
            remote: c.to,
            local: dev,
          });
        } else {
          // each of its phones ringing in an early dialog, with the ids a pickup's Replaces names
          const early = (c.early ?? []).filter((e) => e.extension === dev);
          for (const e of early)
            out.push({
              id: `${c.callId}-${e.pickupTag}`,
              callId: e.callId,
              localTag: e.phoneTag,
              remoteTag: e.pickupTag,
              direction: 'recipient',
              state: 'early',
              remote: c.from,
              local: dev,
            });
          if (early.length === 0 && c.toExtension === dev)
            out.push({ id: `${c.callId}-r`, direction: 'recipient', state: c.phase === 'answered' ? 'confirmed' : 'early', remote: c.from, local: dev });
        }
      }
    }
    return out;
  }

  private readonly pending = new Set<string>();

  /**
   * An extension's calls changed: NOTIFY the watchers of every hint that
   * names it — once per resource for all the changes one event brings (a
   * call's phase and the device states it moves come together).
   */
  changed(extension: string, resourcesOf: (extension: string) => readonly string[]): void {
    const rs = resourcesOf(extension);
    if (rs.length === 0) return;
    if (this.pending.size === 0) queueMicrotask(() => this.flush());
    for (const r of rs) this.pending.add(r);
  }

  private flush(): void {
    const rs = [...this.pending];
    this.pending.clear();
    for (const r of rs) void this.events.notify(DIALOG_EVENT, r);
  }

  subscribed(s: SubscriptionInfo, refresh: boolean): void {
    this.o.log.info('dialog-subscribed', { user: s.subscriber, resource: s.resource, expires: s.expires, refresh });
  }

  ended(s: SubscriptionInfo, reason: EndReason, status?: number): void {
    this.o.log.info('dialog-subscription-ended', { user: s.subscriber, resource: s.resource, reason, status });
  }
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** RFC 4235 §4: a full-state dialog-info document */
export function dialogInfo(entity: string, version: number, dialogs: readonly DialogView[], domain: string): string {
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${esc(entity)}">`];
  for (const d of dialogs) {
    const callId = d.callId ? ` call-id="${esc(d.callId)}"` : '';
    const tags = d.localTag && d.remoteTag ? ` local-tag="${esc(d.localTag)}" remote-tag="${esc(d.remoteTag)}"` : '';
    lines.push(
      `  <dialog id="${esc(d.id)}"${callId}${tags} direction="${d.direction}">`,
      `    <state>${d.state}</state>`,
      `    <local><identity>sip:${esc(d.local)}@${esc(domain)}</identity><target uri="sip:${esc(d.local)}@${esc(domain)}"/></local>`,
      `    <remote><identity>sip:${esc(d.remote)}@${esc(domain)}</identity><target uri="sip:${esc(d.remote)}@${esc(domain)}"/></remote>`,
      '  </dialog>',
    );
  }
  lines.push('</dialog-info>', '');
  return lines.join('\r\n');
}

/** Asterisk's hint value: devices joined by & (`SIP/1001&PJSIP/1002`); the extension numbers of SIP/PJSIP devices */
export function hintDevices(hint: string): string[] {
  const out: string[] = [];
  for (const part of hint.split('&')) {
    const m = /^\s*(?:PJSIP|SIP)\/([^\s&/@]+)\s*$/i.exec(part);
    if (m) out.push(m[1]!);
  }
  return out;
}
