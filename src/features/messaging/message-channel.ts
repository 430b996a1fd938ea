// The channel a message runs through the dialplan on, as Asterisk runs a
// MESSAGE through the endpoint's message_context on a "Message/ast_msg_queue"
// channel: no audio, no Dial(); its variables carry the message
// (MESSAGE(to), MESSAGE(from), MESSAGE(body), MESSAGE(content-type)), which
// Set() may change before MessageSend() sends it on. The extension run is
// the recipient's number in the configured context.
import { randomBytes } from 'node:crypto';
import type { Channel, ChannelPeer, DialResult, HangupCause } from '../../channel/channel.js';
import type { ChannelMedia, PlayResult, RecordResult } from '../../channel/channel-media.js';
import type { MediaEndpoint } from '../../media/media-endpoint.js';
import type { OutgoingMessage } from './message-service.js';

/** the variables that hold a message on any channel (Set(MESSAGE(body)=...) writes them) */
export const MESSAGE_VARS = { to: 'MESSAGE(to)', from: 'MESSAGE(from)', body: 'MESSAGE(body)', contentType: 'MESSAGE(content-type)' } as const;

const NO_ENDPOINT: MediaEndpoint = {
  codec: null,
  source: null,
  echo: false,
  tapReceived: () => () => undefined,
  tapSent: () => () => undefined,
  tapDigits: () => () => undefined,
  sendDigits: () => false,
};

export class MessageChannel implements Channel {
  readonly id = `msg-${randomBytes(6).toString('hex')}`;
  readonly name: string;
  readonly callerIdNum: string;
  readonly callerIdName: string;
  readonly dialed: string;
  readonly vars = new Map<string, string>();
  readonly answered = true;
  hungUp = false;
  readonly ended: Promise<HangupCause>;
  readonly endpoint = NO_ENDPOINT;
  private end!: (c: HangupCause) => void;

  constructor(
    m: OutgoingMessage,
    readonly context: string,
    readonly peer: ChannelPeer,
  ) {
    this.name = `Message/${m.from}-${this.id.slice(4, 12)}`;
    this.callerIdNum = m.from;
    this.callerIdName = m.fromName;
    this.dialed = m.to;
    this.ended = new Promise((r) => (this.end = r));
    this.vars.set(MESSAGE_VARS.to, m.to);
    this.vars.set(MESSAGE_VARS.from, m.from);
    this.vars.set(MESSAGE_VARS.body, m.body.toString('utf8'));
    this.vars.set(MESSAGE_VARS.contentType, m.contentType);
  }

  async answer(): Promise<void> {}
  async ring(): Promise<void> {}
  async progress(): Promise<void> {}
  async hangup(cause: HangupCause = 'normal'): Promise<void> {
    if (this.hungUp) return;
    this.hungUp = true;
    this.end(cause);
  }
  async dial(): Promise<DialResult> {
    return { status: 'CHANUNAVAIL' };
  }
}

const silent: PlayResult = { completed: true };

/** the media services of a message channel: nothing to play or hear; waits return at once */
export const NO_MEDIA: ChannelMedia = {
  play: async () => silent,
  sayDigits: async () => silent,
  sayNumber: async () => silent,
  readDigits: async () => '',
  waitDigit: async () => null,
  record: async (): Promise<RecordResult> => ({ durationMs: 0, reason: 'hangup' }),
  startMixMonitor: () => undefined,
  stopMixMonitor: () => undefined,
  musicOnHold: async () => silent,
  wait: async () => true,
  echo: async () => true,
  confBridge: async () => undefined,
};
