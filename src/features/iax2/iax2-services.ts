// What the iax2 module needs of the running server (the host hands in a
// superset, src/host/modules.ts HostServices), named structurally so the
// module does not import the host.
import type { LogRoot } from '../../observability/logger.js';
import type { DialTechnologies } from '../../channel/dial-technology.js';
import type { MediaServiceDeps } from '../../channel/endpoint-media.js';
import type { ExtensionInfo } from '../../core/directory.js';
import type { AuthOutcome } from '../../core/auth.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { PacketGate } from '../../transport/transport-layer.js';
import type { CdrRecord } from '../../sip/b2bua/types.js';
import type { Channel } from '../../channel/channel.js';
import type { ChannelMedia } from '../../channel/channel-media.js';
import type { CallEvent, RegistrationEvent } from '../../core/call-events.js';
import type { TrunkSet } from '../../core/trunk-set.js';
import type { TrunkConfig } from '../trunks/trunk-config.js';

export interface HostServicesFor {
  cfg: { sections: Readonly<Record<string, unknown>> };
  logs: LogRoot;
  storage: { cdr: { insert(rec: CdrRecord): Promise<void> } };
  extensions: { get(number: string): ExtensionInfo | undefined };
  /** the dialplan, then the numbers modules route (outbound and inbound routes): what a call may reach */
  callRouters: { has(context: string, exten: string, callerId: string): boolean; run(channel: Channel, media: ChannelMedia): Promise<void> };
  defences: { packetGate: PacketGate; authOutcome(o: AuthOutcome): void; callGate: CallGateApi };
  dialTechnologies: DialTechnologies;
  mediaServices: MediaServiceDeps;
  callEvents: { emitCall(e: CallEvent): void; emitRegistration(e: RegistrationEvent): void };
  /** the trunks that run (palisade.yaml's and the API's); this module runs and follows the type: iax2 ones */
  trunkSet: Pick<TrunkSet<TrunkConfig>, 'current' | 'follow'>;
}
