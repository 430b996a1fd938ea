// The part of @xmpp/component (0.13, CommonJS, no bundled types) the XMPP bridge uses.
declare module '@xmpp/component' {
  import type { EventEmitter } from 'node:events';

  export interface XmppElement {
    name: string;
    attrs: Record<string, string | undefined>;
    is(name: string, xmlns?: string): boolean;
    getChildText(name: string, xmlns?: string): string | null;
  }

  export interface XmppComponent extends EventEmitter {
    start(): Promise<unknown>;
    stop(): Promise<unknown>;
    send(...el: XmppElement[]): Promise<void>;
  }

  const mod: {
    component(options: { service: string; domain: string; password: string }): XmppComponent;
    xml(name: string, attrs?: Record<string, string>, ...children: Array<XmppElement | string>): XmppElement;
  };
  export default mod;
}
