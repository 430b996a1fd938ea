// The office module's sections of palisade.yaml: ring groups (FreePBX's
// ring groups: a number that rings its members all at once or one after
// another, then a destination when nobody answered) and follow-me lists (an
// extension's own phone first, then other numbers — a mobile out through
// the outbound routes — each with its ring time). docs/configuration.md,
// "Ring groups" and "Follow-me".
//
//   ring_groups:
//     - number: "600"
//       strategy: ringall        # or hunt
//       ring_time: 20            # ringall: the group; hunt: each member (a member may say its own)
//       members: ["1001", { extension: "1002", ring_time: 10 }]
//       destination: "voicemail:1001"   # or "1003", or "context,exten,priority"
//   follow_me:
//     - extension: "1001"
//       steps:
//         - { number: "1001", ring_time: 10 }
//         - { number: "0612345678", ring_time: 25 }
//       confirm: true            # the mobile presses 1 to take the call
//       destination: "voicemail:1001"
import { isMap } from 'yaml';
import { MapReader } from '../../config/yaml-reader.js';

/** where a call goes when nobody answered */
export type Destination =
  | { kind: 'hangup' }
  | { kind: 'extension'; number: string }
  | { kind: 'voicemail'; mailbox: string }
  | { kind: 'dialplan'; context: string; exten: string; priority: string };

export interface RingGroupMember {
  extension: string;
  /** hunt: seconds this member rings (0: the group's ring_time) */
  ringTime: number;
}

export interface RingGroupConfig {
  number: string;
  name: string;
  strategy: 'ringall' | 'hunt';
  /** seconds: the whole group (ringall) or each member (hunt) */
  ringTime: number;
  members: RingGroupMember[];
  destination: Destination;
}

export interface FollowMeStep {
  /** an extension (rung directly) or an outside number (through the outbound routes) */
  number: string;
  ringTime: number;
}

export interface FollowMeConfig {
  extension: string;
  steps: FollowMeStep[];
  /** an outside number that answers must press 1 before the caller is connected */
  confirm: boolean;
  destination: Destination;
}

const NUMBER = /^[0-9*#]{1,32}$/;
const OUTSIDE = /^\+?[0-9*#]{1,32}$/;
const DEST = /^(hangup|[0-9*#]{1,32}|[A-Za-z0-9_-]+,[^,\s]+,[0-9A-Za-z_-]+|voicemail:[0-9]{1,32})$/;
const DEST_EXPECT = 'expected an extension number, voicemail:NUMBER, context,exten,priority, or hangup';

export function parseDestination(text: string): Destination {
  if (text === '' || text === 'hangup') return { kind: 'hangup' };
  if (text.startsWith('voicemail:')) return { kind: 'voicemail', mailbox: text.slice(10) };
  const parts = text.split(',');
  if (parts.length === 3) return { kind: 'dialplan', context: parts[0]!, exten: parts[1]!, priority: parts[2]! };
  return { kind: 'extension', number: text };
}

export function destinationText(d: Destination): string {
  switch (d.kind) {
    case 'hangup':
      return 'hangup';
    case 'extension':
      return d.number;
    case 'voicemail':
      return `voicemail:${d.mailbox}`;
    case 'dialplan':
      return `${d.context},${d.exten},${d.priority}`;
  }
}

/** the items of a section written as a list ([] when absent) */
function listItems(section: MapReader, key: string, example: string): MapReader[] {
  const items = section.items();
  if (items === null) {
    section.error('', `${key} must be a list, one "- ${example}" item per entry`);
    return [];
  }
  return items;
}

export function readRingGroups(section: MapReader): RingGroupConfig[] {
  const out: RingGroupConfig[] = [];
  const seen = new Set<string>();
  for (const m of listItems(section, 'ring_groups', 'number: ...')) {
    const number = m.string('number', '', { required: true, pattern: NUMBER, expect: 'expected the digits callers dial, such as "600"' });
    if (number && seen.has(number)) m.error('number', `${m.path}.number "${number}" is used by another ring group; ring group numbers must be unique`);
    seen.add(number);
    const name = m.string('name', number, { pattern: /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,39}$/, expect: 'expected a short name such as sales' });
    const strategy = m.oneOf('strategy', 'ringall', ['ringall', 'hunt'] as const);
    const ringTime = m.int('ring_time', 20, 1, 300, 'seconds');
    const members: RingGroupMember[] = [];
    const list = m.list('members');
    if (!list || list.length === 0) m.issues.add(m.keyOffset('members'), `${m.path}.members is required; expected the extensions to ring, such as ["1001", "1002"]`);
    (list ?? []).forEach((item, i) => {
      if (isMap(item.node)) {
        const r = new MapReader(m.issues, m.source, `${m.path}.members[${i}]`, item.node, item.offset);
        const extension = r.string('extension', '', { required: true, pattern: NUMBER, expect: 'expected an extension number such as "1001"' });
        const rt = r.int('ring_time', 0, 1, 300, 'seconds');
        r.done();
        if (extension) members.push({ extension, ringTime: rt });
      } else if (item.text !== null && NUMBER.test(item.text)) members.push({ extension: item.text, ringTime: 0 });
      else m.issues.add(item.offset, `${m.path}.members[${i}] "${item.text ?? ''}" is not an extension; expected a number such as "1001" or { extension: "1001", ring_time: 10 }`);
    });
    if (members.some((x) => x.ringTime > 0) && strategy === 'ringall') {
      m.error('strategy', `${m.path}: a member's own ring_time only counts with strategy: hunt; remove it or set strategy: hunt`);
    }
    const dest = m.string('destination', 'hangup', { pattern: DEST, expect: DEST_EXPECT });
    if (dest === number) m.error('destination', `${m.path}.destination is the ring group itself; name an extension, a voicemail box or a dialplan context`);
    m.done();
    out.push({ number, name, strategy, ringTime, members, destination: parseDestination(dest) });
  }
  return out;
}

export function readFollowMe(section: MapReader): FollowMeConfig[] {
  const out: FollowMeConfig[] = [];
  const seen = new Set<string>();
  for (const m of listItems(section, 'follow_me', 'extension: ...')) {
    const extension = m.string('extension', '', { required: true, pattern: NUMBER, expect: 'expected the extension whose calls follow it, such as "1001"' });
    if (extension && seen.has(extension)) m.error('extension', `${m.path}.extension "${extension}" has another follow_me entry; one list per extension`);
    seen.add(extension);
    const steps: FollowMeStep[] = [];
    const list = m.maps('steps');
    if (list.length === 0)
      m.issues.add(
        m.keyOffset('steps'),
        `${m.path}.steps is required; expected the numbers to ring in order, such as [{ number: "${extension || '1001'}", ring_time: 10 }, { number: "0612345678", ring_time: 25 }]`,
      );
    for (const r of list) {
      const number = r.string('number', '', { required: true, pattern: OUTSIDE, expect: 'expected an extension or an outside number such as 0612345678' });
      const ringTime = r.int('ring_time', 20, 1, 300, 'seconds');
      r.done();
      if (number) steps.push({ number, ringTime });
    }
    const confirm = m.bool('confirm', false);
    const dest = m.string('destination', 'hangup', { pattern: DEST, expect: DEST_EXPECT });
    m.done();
    out.push({ extension, steps, confirm, destination: parseDestination(dest) });
  }
  return out;
}
