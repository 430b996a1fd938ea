// Call diversion, protocol-neutral: do-not-disturb and call forwarding
// (unconditional, on busy, on no answer) of an extension. A feature module
// (src/features/office/) keeps the settings and installs its policy here;
// the B2BUA's direct calls and the channels' Dial() consult it when they
// ring an extension, and other modules (presence) read an extension's DND.
// Every look-up is a Map read: no database on the call path.

export interface Diversion {
  /** do not disturb: calls to the extension are refused busy (486) */
  dnd: boolean;
  /** forward every call to this extension ('' = off) */
  always: string;
  /** forward when the extension is busy ('' = off) */
  busy: string;
  /** forward when it does not answer in `noAnswerSecs` ('' = off) */
  noAnswer: string;
  noAnswerSecs: number;
}

export interface DiversionPolicy {
  of(extension: string): Diversion | undefined;
}

/** where the policy is installed (one; the office module's) */
export class DiversionPort implements DiversionPolicy {
  private policy: DiversionPolicy | null = null;

  set(p: DiversionPolicy | null): void {
    this.policy = p;
  }

  of(extension: string): Diversion | undefined {
    return this.policy?.of(extension);
  }
}
