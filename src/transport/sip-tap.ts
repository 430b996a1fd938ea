// A listener on every SIP message the transport receives and sends, for
// troubleshooting (src/features/troubleshoot records call ladders with it).
// The transport holds at most one, null by default: then the packet path pays
// one null check per message and nothing else. An implementation must never
// throw: it runs on the packet path.
//
// Where the message is at hand already parsed (every message received that
// parsed, every message the transaction layer sends) it is passed along, so
// the tap reads Call-ID, method and status from it rather than scanning the
// bytes a second time; `null` means only the bytes are known (a malformed
// message, a retransmission of stored bytes).
import type { SipMessage } from '../sip-message/sip-message.js';
import type { ListenPoint, Remote } from './types.js';

export interface SipTap {
  /** bytes of one message that passed the packet gate, before it is handled (parsed: `msg`) */
  received(data: Buffer, remote: Remote, local: ListenPoint, msg: SipMessage | null): void;
  /**
   * the message received last has been handled: whatever was sent in between
   * was sent while handling it (a B2BUA's new leg, an answer)
   */
  handled(): void;
  /** bytes handed to a socket toward `remote` from `local` (`msg`: what they serialize, when known) */
  sent(data: Buffer, remote: Remote, local: ListenPoint, msg: SipMessage | null): void;
}
