// A listener on every SIP message the transport receives and sends, for
// troubleshooting (src/features/troubleshoot records call ladders with it).
// The transport holds at most one, null by default: then the packet path pays
// one null check per message and nothing else. An implementation must never
// throw: it runs on the packet path.
import type { ListenPoint, Remote } from './types.js';

export interface SipTap {
  /** bytes of one message that passed the packet gate, before it is parsed and handled */
  received(data: Buffer, remote: Remote, local: ListenPoint): void;
  /**
   * the message received last has been handled: whatever was sent in between
   * was sent while handling it (a B2BUA's new leg, an answer)
   */
  handled(): void;
  /** bytes handed to a socket toward `remote` from `local` */
  sent(data: Buffer, remote: Remote, local: ListenPoint): void;
}
