// The control commands the core answers itself: status, registrations,
// calls, reload-extensions, reload-dialplan. Modules add theirs through
// the host (module-host.ts); all of them share one CommandTable.
import type { PalisadeConfig } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import type { Mailer } from '../mail/mailer.js';
import type { LoadedDialplan } from '../dialplan/load-dialplan.js';
import { formatListenPoint } from '../transport/transport-layer.js';
import { formatRemote } from '../sip/ua/location.js';
import type { CommandTable } from './command-table.js';
import type { ExtensionDirectory } from './extension-directory.js';
import type { SipStack } from './sip-stack.js';

export interface CoreCommandDeps {
  cfg: PalisadeConfig;
  log: Logger;
  started: number;
  stack: SipStack;
  extensions: ExtensionDirectory;
  dialplan: LoadedDialplan | null;
  mailer: Mailer | null;
  /** the modules' status fields (security) */
  moduleStatus(): Record<string, unknown>;
}

export function addCoreCommands(table: CommandTable, d: CoreCommandDeps): void {
  const { stack, cfg, log } = d;
  const { transport, location, b2bua } = stack;
  table.add('status', () => ({
    version: '0.1.0',
    uptime_s: Math.round((Date.now() - d.started) / 1000),
    listen: cfg.sip.listen.map(formatListenPoint),
    extensions: d.extensions.size,
    registrations: location.count(),
    active_calls: b2bua.activeCalls,
    calls: b2bua.stats,
    transactions: stack.tm.stats(),
    packets: transport.stats,
    tcp_connections: transport.tcpConnections(),
    tls_connections: transport.tlsConnections(),
    tls_handshake_errors: transport.tlsHandshakeErrors(),
    ...d.moduleStatus(),
    mail_pending: d.mailer?.pending() ?? null,
    rss_mb: Math.round(process.memoryUsage().rss / 1048576),
    heap_used_mb: Math.round(process.memoryUsage().heapUsed / 1048576),
  }));
  table.add('registrations', () =>
    location.all().map((b) => ({
      aor: b.aor,
      contact: b.contactUri,
      received: formatRemote(b.received),
      expires_in: Math.max(0, Math.round((b.expiresAt - Date.now()) / 1000)),
      user_agent: b.userAgent,
      reachable: b.reachable === null ? 'unknown' : b.reachable ? 'yes' : 'no',
    })),
  );
  // Asterisk's `core show hints`: each extension's device state (src/core/call-events.ts)
  table.add('hints', () =>
    [...d.extensions.values()]
      .map((e) => ({ extension: e.number, state: stack.callEvents.deviceState(e.number), contacts: stack.callEvents.contactCount(e.number) }))
      .sort((a, b) => a.extension.localeCompare(b.extension)),
  );
  table.add('calls', () => [...b2bua.listCalls(), ...(stack.channels?.list() ?? [])]);
  table.add('reload-extensions', async () => {
    // modules listening add their figures (voicemail: mailboxes)
    const r = await d.extensions.load();
    log.info('extensions-reloaded', r);
    return r;
  });
  table.add('reload-dialplan', () => {
    if (!d.dialplan) throw new Error('no dialplan configured (dialplan.file)');
    // ConfigError keeps the running dialplan; calls in progress keep theirs either way
    const r = d.dialplan.reload();
    log.info('dialplan-reloaded', r);
    return r;
  });
}
