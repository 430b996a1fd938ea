// The voicemail module's REST resources (issue 10; src/core/api-routes.ts):
// mailboxes with their message counts, their messages (list, download,
// delete) and a PIN reset that answers with a generated PIN, once. The
// `admin` and `operator` roles (an operator handles voicemail boxes). A
// mailbox comes from voicemail.conf or from an extension with voicemail
// (POST/PATCH /extensions); its name and e-mail are edited there.
import { randomInt } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Type } from 'typebox';
import type { ApiResult, ApiRoute } from '../../core/api-routes.js';
import { checkPin } from '../../security/passwords/index.js';
import type { MailboxConfig } from '../../config/config-types.js';
import type { VoicemailService } from './voicemail-service.js';

const BoxParam = Type.Object({ mailbox: Type.String({ pattern: '^[0-9*#+]{1,32}(@[A-Za-z0-9_-]{1,80})?$', description: 'NUMBER or NUMBER@CONTEXT' }) });
const MessageParam = Type.Object({ mailbox: BoxParam.properties.mailbox, id: Type.String({ pattern: '^[A-Za-z0-9_.-]{1,80}$' }) });

function fail(status: number, error: string, message: string): ApiResult {
  return { status, body: { error, message } };
}

/** a 6-digit PIN the policy accepts (no runs, no repetitions) */
export function generatePin(): string {
  for (;;) {
    const pin = String(randomInt(0, 1_000_000)).padStart(6, '0');
    if (checkPin(pin, { minLength: 6 }).ok) return pin;
  }
}

export function voicemailApi(service: () => VoicemailService | null): ApiRoute[] {
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
  return [
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
        const pin = generatePin();
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
