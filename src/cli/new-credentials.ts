// Credentials Palisade makes up for people — SIP secrets and voicemail PINs —
// are shown once, on the terminal of the command that made them (stderr: a
// service manager's log collects stdout), and never written to a log.
// `palisade start --demo` and `palisade users import` both make and show
// them through here, so a generated PIN has one length and one look.
import { generatePin } from '../security/passwords/index.js';

/** digits in a generated PIN: 6, at or above every voicemail.pin_min_length (4..6) */
export const GENERATED_PIN_LENGTH = 6;

/** a PIN for a new mailbox that passes the PIN policy (no runs, repeats, common PINs or the mailbox number) */
export function newMailboxPin(mailbox: string): string {
  return generatePin(GENERATED_PIN_LENGTH, mailbox);
}

export interface NewCredential {
  number: string;
  name: string;
  secret?: string;
  pin?: string;
}

/** "  extension 1001 (Alice)  secret: ...  voicemail PIN: ..." */
export function credentialLine(c: NewCredential): string {
  let line = `  extension ${c.number} (${c.name})`;
  if (c.secret !== undefined) line += `  secret: ${c.secret}`;
  if (c.pin !== undefined) line += `  voicemail PIN: ${c.pin}`;
  return line;
}
