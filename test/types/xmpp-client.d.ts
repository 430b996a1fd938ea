// The part of @xmpp/client (0.14, plain JavaScript, no bundled types) the tests use.
declare module '@xmpp/client' {
  import type { EventEmitter } from 'node:events';

  export interface XmppElement {
    name: string;
    attrs: Record<string, string>;
    children: Array<XmppElement | string>;
    is(name: string, xmlns?: string): boolean;
    getChild(name: string, xmlns?: string): XmppElement | undefined;
    getChildText(name: string, xmlns?: string): string | null;
    toString(): string;
  }

  export interface XmppClient extends EventEmitter {
    start(): Promise<{ toString(): string }>;
    stop(): Promise<unknown>;
    send(...el: XmppElement[]): Promise<void>;
  }

  export function client(options: { service: string; domain?: string; username?: string; password?: string; resource?: string }): XmppClient;
  export function xml(name: string, attrs?: Record<string, string>, ...children: Array<XmppElement | string>): XmppElement;
}
