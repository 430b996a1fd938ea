// The XMPP bridge: an external component (XEP-0114) of the Prosody server
// beside Palisade, at a domain of its own (e.g. sip.example.org), where every
// extension is a JID: NUMBER@sip.example.org. A chat client writes to
// 1002@sip.example.org and extension 1002's phones get a SIP MESSAGE from the
// writer's number; a message an extension gets over SIP (or the dialplan) is
// copied to its owner's chat clients, from SENDER@sip.example.org (Prosody
// keeps it offline when no client is on). Presence both ways: a chat user's
// away / dnd is published for the extension (SIP watchers see it, in PIDF);
// an extension's call state and DND are sent as the presence of its
// component JID (on a call or DND → <show>dnd</show>) to the chat users who
// asked for it (directed presence or a subscription).
import xmppComponent, { type XmppComponent, type XmppElement } from '@xmpp/component';
import type { ChatHub, ChatMessage } from '../../core/chat.js';
import type { DeviceState } from '../../core/call-events.js';
import type { Logger } from '../../observability/logger.js';

const { component, xml } = xmppComponent;

export interface BridgeDeps {
  /** xmpp://127.0.0.1:PORT of Prosody's component port */
  service: string;
  /** the component's domain */
  domain: string;
  /** the domain of the chat users (Prosody's VirtualHost) */
  userDomain: string;
  secret: string;
  chat: Pick<ChatHub, 'send' | 'publish' | 'onDelivered'>;
  isExtension(n: string): boolean;
  nameOf(n: string): string;
  deviceState(ext: string): DeviceState;
  isDnd(ext: string): boolean;
  log: Logger;
}

function local(jid: string | undefined): { node: string; domain: string } | null {
  if (!jid) return null;
  const bare = jid.split('/')[0]!;
  const at = bare.indexOf('@');
  if (at <= 0) return null;
  return { node: bare.slice(0, at), domain: bare.slice(at + 1).toLowerCase() };
}

export class XmppBridge {
  private xmpp: XmppComponent | null = null;
  /** extension → the chat users (bare JIDs) watching its component JID */
  private readonly watchers = new Map<string, Set<string>>();
  private readonly offs: Array<() => void> = [];
  readonly stats = { toSip: 0, toXmpp: 0, presenceOut: 0, presenceIn: 0 };

  constructor(private readonly d: BridgeDeps) {}

  /** connects; when Prosody is not there yet, tries again every 2 s until stop() */
  async start(): Promise<void> {
    this.offs.push(this.d.chat.onDelivered((m) => this.toXmpp(m)));
    let stopped = false;
    this.offs.push(() => {
      stopped = true;
    });
    while (!stopped) {
      const x = component({ service: this.d.service, domain: this.d.domain, password: this.d.secret });
      x.on('error', (err: Error) => this.d.log.debug('xmpp-bridge-error', { error: err.message }));
      x.on('stanza', (st: XmppElement) => void this.stanza(st).catch((err: Error) => this.d.log.warn('xmpp-bridge-stanza-failed', { error: err.message })));
      x.on('online', () => this.d.log.info('xmpp-bridge-online', { domain: this.d.domain }));
      try {
        await x.start();
        this.xmpp = x;
        return;
      } catch (err) {
        await x.stop().catch(() => undefined);
        this.d.log.debug('xmpp-bridge-retry', { error: (err as Error).message });
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  }

  async stop(): Promise<void> {
    for (const off of this.offs.splice(0)) off();
    const x = this.xmpp;
    this.xmpp = null;
    await x?.stop().catch(() => undefined);
  }

  /** an extension's state changed: its watchers in chat hear it */
  stateChanged(ext: string): void {
    for (const user of this.watchers.get(ext) ?? []) void this.sendPresence(ext, user);
  }

  private async stanza(st: XmppElement): Promise<void> {
    const from = local(st.attrs.from);
    const to = local(st.attrs.to);
    // only the organisation's own chat users, writing to an extension's JID
    if (!from || from.domain !== this.d.userDomain.toLowerCase() || !this.d.isExtension(from.node)) return;
    if (st.is('message')) {
      const body = st.getChildText('body');
      if (!to || body === null || st.attrs.type === 'error' || st.attrs.type === 'groupchat') return;
      this.stats.toSip++;
      const outcome = await this.d.chat.send({
        to: to.node,
        from: from.node,
        fromName: this.d.nameOf(from.node),
        contentType: 'text/plain;charset=UTF-8',
        body: Buffer.from(body, 'utf8'),
        at: Date.now(),
        via: 'xmpp',
      });
      this.d.log.info('xmpp-to-sip', { from: from.node, to: to.node.slice(0, 32), outcome });
      return;
    }
    if (!st.is('presence')) return;
    const bareFrom = `${from.node}@${from.domain}`;
    const type = st.attrs.type;
    if (to?.node && this.d.isExtension(to.node)) {
      if (type === 'subscribe') {
        await this.xmpp?.send(xml('presence', { from: `${to.node}@${this.d.domain}`, to: bareFrom, type: 'subscribed' }));
        this.watch(to.node, bareFrom);
        return;
      }
      if (type === 'unsubscribe' || type === 'unavailable') {
        this.watchers.get(to.node)?.delete(bareFrom);
        if (type === 'unsubscribe') return;
      } else if (type === 'probe') {
        this.watch(to.node, bareFrom);
        return;
      } else if (type === undefined) {
        // directed available presence: the user watches the extension, and tells its own state (below)
        this.watch(to.node, bareFrom);
      }
    }
    // the user's own presence (broadcast to the component, or directed to it): published for the extension
    this.stats.presenceIn++;
    if (type === 'unavailable') {
      this.d.chat.publish('xmpp', from.node, null);
      return;
    }
    if (type !== undefined) return;
    const show = st.getChildText('show');
    const note = st.getChildText('status') ?? '';
    const activities = show === 'away' || show === 'xa' ? ['away'] : show === 'dnd' ? ['busy'] : [];
    this.d.chat.publish('xmpp', from.node, { open: true, activities, note: note || (show === 'away' || show === 'xa' ? 'Away' : show === 'dnd' ? 'Busy' : '') });
  }

  private watch(ext: string, user: string): void {
    let set = this.watchers.get(ext);
    if (!set) this.watchers.set(ext, (set = new Set()));
    if (set.size < 1000) set.add(user);
    void this.sendPresence(ext, user);
  }

  /** RFC 6121 §4.6: the extension's presence as its component JID's; on a call or DND → dnd */
  private async sendPresence(ext: string, user: string): Promise<void> {
    const x = this.xmpp;
    if (!x) return;
    const state = this.d.deviceState(ext);
    const from = `${ext}@${this.d.domain}`;
    this.stats.presenceOut++;
    if (state === 'unavailable') {
      await x.send(xml('presence', { from, to: user, type: 'unavailable' }));
      return;
    }
    const dnd = this.d.isDnd(ext);
    const busy = state === 'inuse' || state === 'ringing';
    const status = dnd ? 'Do not disturb' : state === 'inuse' ? 'On the phone' : state === 'ringing' ? 'Ringing' : 'Available';
    const children = [...(busy || dnd ? [xml('show', {}, 'dnd')] : []), xml('status', {}, status)];
    await x.send(xml('presence', { from, to: user }, ...children));
  }

  /** a message an extension got over SIP or from the dialplan: its chat clients get a copy */
  private toXmpp(m: ChatMessage): void {
    const x = this.xmpp;
    if (!x || m.via === 'xmpp') return;
    this.stats.toXmpp++;
    void x
      .send(xml('message', { type: 'chat', from: `${m.from}@${this.d.domain}`, to: `${m.to}@${this.d.userDomain}` }, xml('body', {}, m.body.toString('utf8'))))
      .catch((err: Error) => this.d.log.warn('xmpp-bridge-send-failed', { error: err.message }));
  }
}
