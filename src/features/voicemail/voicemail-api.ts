// The voicemail module's REST resources (issue 10; src/core/api-routes.ts):
// mailboxes with their message counts, their messages (list, download,
// delete), a PIN reset that answers with a generated PIN, once, and the
// PIN-less fields (name, e-mail) of the mailboxes of database extensions:
// creating a mailbox turns voicemail on for an extension of the database;
// the extension directory is reloaded so it takes effect at once. The
// `admin` and `operator` roles (an operator handles voicemail boxes).
// Mailboxes of voicemail.conf and of palisade.yaml's extensions are edited
// in those files.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Type } from 'typebox';
import type { ApiResult, ApiRoute } from '../../core/api-routes.js';
import { generatePin } from '../../security/passwords/index.js';
import type { MailboxConfig } from '../../config/config-types.js';
import type { VoicemailService } from './voicemail-service.js';
import type { ExtensionRecord, StoredExtension } from '../../storage/extension-repo.js';

/** the extensions of the database, whose mailboxes the API may create and edit */
export interface MailboxOwners {
  get(number: string): Promise<StoredExtension | undefined>;
  put(rec: ExtensionRecord): Promise<void>;
  /** reload the extension directory (the voicemail module hears it and takes the new mailboxes) */
  reload(): Promise<unknown>;
  /** is `number` an extension of palisade.yaml (edited in the file)? */
  configured(number: string): boolean;
}

const NAME = Type.String({ pattern: '^[^"\\\\\\x00-\\x1f]{0,80}$', maxLength: 80 });
const EMAIL = Type.Union([Type.String({ pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', maxLength: 255 }), Type.Null()]);

const BoxParam = Type.Object({ mailbox: Type.String({ pattern: '^[0-9*#+]{1,32}(@[A-Za-z0-9_-]{1,80})?$', description: 'NUMBER or NUMBER@CONTEXT' }) });
const MessageParam = Type.Object({ mailbox: BoxParam.properties.mailbox, id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,80}$' }) });

function fail(status: number, error: string, message: string): ApiResult {
  return { status, body: { error, message } };
}

export function voicemailApi(service: () => VoicemailService | null, owners: MailboxOwners): ApiRoute[] {
  const roles = ['admin', 'operator'] as const;
  const box = (spec: string): { s: VoicemailService; b: MailboxConfig } | ApiResult => {
    const s = service();
    if (!s) return fail(409, 'not-running', 'voicemail is not running');
    const b = s.mailbox(spec);
    return b ? { s, b } : fail(404, 'not-found', `no mailbox ${spec}`);
  };
  const isBox = (x: { s: VoicemailService; b: MailboxConfig } | ApiResult): x is { s: VoicemailService; b: MailboxConfig } => 's' in x;
  const view = async (s: VoicemailService, b: MailboxConfig) => {
    const c = await s.counts(b);
    const ownPin = await stat(`${s.store.boxDir(b)}/pin.json`).then(
      () => true,
      () => false,
    );
    return {
      mailbox: `${b.number}@${b.context}`,
      number: b.number,
      context: b.context,
      name: b.name,
      email: b.email,
      new: c.newCount,
      old: c.oldCount,
      pin_set: ownPin || b.pin !== '',
    };
  };
  /** the database extension behind a mailbox, or why it cannot be edited here */
  const owner = async (number: string): Promise<StoredExtension | ApiResult> => {
    if (owners.configured(number)) return fail(409, 'configured', `extension ${number} is written in palisade.yaml; edit its mailbox there`);
    const rec = await owners.get(number);
    return rec ?? fail(404, 'not-found', `no extension ${number} in the database (create it first: POST /api/v1/extensions)`);
  };
  const isRecord = (x: StoredExtension | ApiResult): x is StoredExtension => 'number' in x;
  const fields = (r: ExtensionRecord) => ({ number: r.number, name: r.name, email: r.email, voicemail: r.voicemail });
  return [
    {
      method: 'POST',
      path: '/voicemail/boxes',
      roles,
      tag: 'voicemail',
      summary: 'Create the mailbox of an extension of the database (turns voicemail on for it); set its PIN with POST .../pin',
      body: Type.Object({ number: Type.String({ pattern: '^[0-9]{1,15}$' }), name: Type.Optional(NAME), email: Type.Optional(EMAIL) }, { additionalProperties: false }),
      async handle(req) {
        const b = req.body as { number: string; name?: string; email?: string | null };
        if (service()?.mailbox(b.number))
          return { status: 409, body: { error: 'exists', message: `mailbox ${b.number}@default exists already`, errors: [{ field: 'number', message: 'has a mailbox already' }] } };
        const rec = await owner(b.number);
        if (!isRecord(rec)) return rec;
        const next: ExtensionRecord = { ...rec, voicemail: true, ...(b.name !== undefined ? { name: b.name } : {}), ...(b.email !== undefined ? { email: b.email } : {}) };
        await owners.put(next);
        await owners.reload();
        const s = service();
        const box = s?.mailbox(b.number);
        const after = s && box ? await view(s, box) : fields(next);
        return { status: 201, body: after, change: { action: 'voicemail.box.create', target: `${b.number}@default`, before: fields(rec), after: fields(next) } };
      },
    },
    {
      method: 'PATCH',
      path: '/voicemail/boxes/:mailbox',
      roles,
      tag: 'voicemail',
      summary: "Edit a mailbox's name and e-mail (the mailbox of an extension of the database); the PIN is reset with POST .../pin",
      params: BoxParam,
      body: Type.Object({ name: Type.Optional(NAME), email: Type.Optional(EMAIL) }, { additionalProperties: false, minProperties: 1 }),
      async handle(req) {
        const r = box(req.params.mailbox!);
        if (!isBox(r)) return r;
        if (r.s.cfg.mailboxes.some((m) => m.number === r.b.number && m.context === r.b.context)) {
          return fail(409, 'configured', `mailbox ${r.b.number}@${r.b.context} is written in voicemail.conf; edit it there`);
        }
        const rec = await owner(r.b.number);
        if (!isRecord(rec)) return rec;
        const b = req.body as { name?: string; email?: string | null };
        const next: ExtensionRecord = { ...rec, ...(b.name !== undefined ? { name: b.name } : {}), ...(b.email !== undefined ? { email: b.email } : {}) };
        await owners.put(next);
        await owners.reload();
        const s = service()!;
        const after = await view(s, s.mailbox(r.b.number) ?? r.b);
        return { body: after, change: { action: 'voicemail.box.update', target: `${r.b.number}@${r.b.context}`, before: fields(rec), after: fields(next) } };
      },
    },
    {
      method: 'GET',
      path: '/voicemail/boxes',
      roles,
      tag: 'voicemail',
      summary: 'Mailboxes (voicemail.conf and extensions with voicemail) with their new and old message counts',
      async handle() {
        const s = service();
        return { body: s ? await Promise.all(s.mailboxes().map((b) => view(s, b))) : [] };
      },
    },
    {
      method: 'POST',
      path: '/voicemail/boxes/:mailbox/pin',
      roles,
      tag: 'voicemail',
      summary: "Reset a mailbox's PIN: the answer holds a generated PIN, once (it replaces voicemail.conf's and the owner's)",
      params: BoxParam,
      async handle(req) {
        const r = box(req.params.mailbox!);
        if (!isBox(r)) return r;
        // 6 digits (the most voicemail.pin_min_length asks), never the mailbox number
        const pin = generatePin(6, r.b.number);
        await r.s.store.setPin(r.b, pin);
        return { body: { mailbox: `${r.b.number}@${r.b.context}`, pin }, change: { action: 'voicemail.pin-reset', target: `${r.b.number}@${r.b.context}` } };
      },
    },
    {
      method: 'GET',
      path: '/voicemail/boxes/:mailbox/messages',
      roles,
      tag: 'voicemail',
      summary: "A mailbox's messages (INBOX and Old)",
      params: BoxParam,
      async handle(req) {
        const r = box(req.params.mailbox!);
        if (!isBox(r)) return r;
        const list = await r.s.messages(r.b);
        return {
          body: list.map((m) => ({
            id: m.id,
            folder: m.folder,
            from: m.callerIdNum,
            from_name: m.callerIdName,
            time: new Date(m.origTime).toISOString(),
            duration_ms: m.durationMs,
          })),
        };
      },
    },
    {
      method: 'GET',
      path: '/voicemail/boxes/:mailbox/messages/:id',
      roles,
      tag: 'voicemail',
      summary: 'Download a message (audio/wav)',
      params: MessageParam,
      async handle(req) {
        const r = box(req.params.mailbox!);
        if (!isBox(r)) return r;
        const m = await r.s.store.find(r.b, req.params.id!);
        if (!m) return fail(404, 'not-found', `no message ${req.params.id} in ${r.b.number}@${r.b.context}`);
        return {
          body: createReadStream(m.wavPath),
          contentType: 'audio/wav',
          headers: { 'content-disposition': `attachment; filename="${m.id}.wav"` },
        };
      },
    },
    {
      method: 'DELETE',
      path: '/voicemail/boxes/:mailbox/messages/:id',
      roles,
      tag: 'voicemail',
      summary: 'Delete a message (the message waiting light follows)',
      params: MessageParam,
      async handle(req) {
        const r = box(req.params.mailbox!);
        if (!isBox(r)) return r;
        const m = await r.s.store.find(r.b, req.params.id!);
        if (!m) return fail(404, 'not-found', `no message ${req.params.id} in ${r.b.number}@${r.b.context}`);
        await r.s.remove(m);
        const before = { id: m.id, folder: m.folder, from: m.callerIdNum, time: new Date(m.origTime).toISOString() };
        return { body: { deleted: m.id }, change: { action: 'voicemail.message.delete', target: `${r.b.number}@${r.b.context}/${m.id}`, before } };
      },
    },
  ];
}
