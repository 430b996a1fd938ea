// `cluster:` in palisade.yaml (docs/configuration.md, "cluster"):
//
//   cluster:
//     node: a                           # this node's name, unique in the cluster
//     broker: nats://127.0.0.1:4222     # NATS with JetStream
//     namespace: palisade               # subjects, stream and bucket names
//
// A cluster shares one database: storage.driver must be postgres.
import type { MapReader } from '../../config/yaml-reader.js';
import type { PalisadeConfig } from '../../config/config-types.js';

export interface ClusterConfig {
  node: string;
  broker: string;
  namespace: string;
  /** seconds without a heartbeat after which a node is counted as gone */
  nodeTimeout: number;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

/** null when the section is absent: one node alone, as without this module */
export function readCluster(m: MapReader, config: Pick<PalisadeConfig, 'storage'>): ClusterConfig | null {
  if (m.keys().length === 0) {
    m.done();
    return null;
  }
  const node = m.string('node', '', { required: true, pattern: NAME, expect: 'expected a node name such as a or pbx-2 (lower-case letters, digits, - and _, up to 32)' });
  const broker = m.string('broker', '', {
    required: true,
    pattern: /^(nats|amqp):\/\/[^\s/]+\/?$/,
    expect: 'expected the NATS server as nats://HOST:PORT, e.g. nats://127.0.0.1:4222',
  });
  if (broker.startsWith('amqp:')) {
    m.error('broker', 'cluster.broker: this Palisade shares its defences through NATS JetStream (docs/operations.md, "Scaling out"); give nats://HOST:PORT');
  }
  const namespace = m.string('namespace', 'palisade', { pattern: NAME, expect: 'expected a name such as palisade (lower-case letters, digits, - and _, up to 32)' });
  const nodeTimeout = m.int('node_timeout', 5, 2, 300, 's');
  if (config.storage.driver !== 'postgres') {
    m.error('node', `cluster: the nodes of a cluster share one database; set storage.driver: postgres (now ${config.storage.driver})`);
  }
  m.done();
  return { node, broker, namespace, nodeTimeout };
}
