// The qualify module: an OPTIONS keep-alive to every registered contact
// every registrar.qualify_interval seconds (0 = off), marking each binding
// reachable or not with its round-trip time (`palisade show registrations`).
import type { ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { TransactionManager } from '../transaction/transaction-manager.js';
import { SipMessage } from '../../sip-message/sip-message.js';
import { newToken } from '../dialog/dialog.js';
import { formatHost } from '../../transport/address.js';
import type { ListenPoint, Remote } from '../../transport/types.js';
import { requestTarget, type LocationService } from './location.js';
import { Qualifier } from './qualifier.js';

export interface QualifyModuleServices {
  cfg: PalisadeConfig;
  location: LocationService;
  tm: Pick<TransactionManager, 'sendRequest'>;
  transport: { localFor(remote: Remote): ListenPoint };
}

export function qualifyModule(): PalisadeModule<ModuleDeclarations, QualifyModuleServices> {
  let qualifier: Qualifier | undefined;
  return {
    name: 'qualify',
    start(s) {
      if (s.cfg.registrar.qualifyInterval <= 0) return;
      const { userAgent } = s.cfg.sip;
      const { domain } = s.cfg.sip;
      qualifier = new Qualifier({
        location: s.location,
        intervalSec: s.cfg.registrar.qualifyInterval,
        sendOptions: (b) => sendOptions(s, b.contactUri, b.aor, requestTarget(b), userAgent, domain),
      });
      qualifier.start();
    },
    stop() {
      qualifier?.stop();
    },
  };
}

/** OPTIONS to a registered contact (qualify); resolves with reachability and RTT */
export function sendOptions(
  s: Pick<QualifyModuleServices, 'tm' | 'transport'>,
  contactUri: string,
  aor: string,
  remote: Remote,
  userAgent: string,
  domain: string,
): Promise<{ ok: boolean; rtt: number }> {
  return new Promise((resolve) => {
    const m = new SipMessage();
    m.method = 'OPTIONS';
    m.uri = contactUri;
    const tag = newToken();
    // the transaction layer adds the Via (RFC 3261 §8.1.1.7)
    m.headers.push(
      { name: 'max-forwards', value: '70' },
      { name: 'from', value: `<sip:qualify@${domain}>;tag=${tag}` },
      { name: 'to', value: `<sip:${aor}@${domain}>` },
      { name: 'call-id', value: `${tag}@${formatHost(s.transport.localFor(remote).address)}` },
      { name: 'cseq', value: '1 OPTIONS' },
      { name: 'user-agent', value: userAgent },
    );
    const t0 = Date.now();
    s.tm.sendRequest(m, remote, {
      // any response, even an error, proves the contact is alive
      onResponse: (res) => {
        if (res.status >= 200) resolve({ ok: true, rtt: Date.now() - t0 });
      },
      onTimeout: () => resolve({ ok: false, rtt: Date.now() - t0 }),
      onTransportError: () => resolve({ ok: false, rtt: Date.now() - t0 }),
    });
  });
}
