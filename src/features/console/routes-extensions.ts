// Extensions through the API: list, create (a generated secret, shown once),
// edit, reset the secret, disable (set aside), enable, delete. They live in
// the configured database (the extensions table the directory loads) and
// take effect at once: the directory is reloaded after each change; calls
// in progress keep going. Extensions written in palisade.yaml are shown but
// edited in the file only (the file wins on the same number).
import { Type } from 'typebox';
import type { ApiRoute } from '../../core/api-routes.js';
import { computeHa1 } from '../../sip/auth/ha1.js';
import { generateSecret } from '../../security/passwords/index.js';
import type { ExtensionRecord } from '../../storage/extension-repo.js';
import { ApiError, type ConsoleContext } from './console-context.js';
import { EXTENSION_RULES } from './extension-rules.js';

const Editable = {
  name: Type.String({ pattern: EXTENSION_RULES.name.pattern, maxLength: 80 }),
  context: Type.String({ pattern: EXTENSION_RULES.context.pattern }),
  email: Type.Union([Type.String({ pattern: EXTENSION_RULES.email.pattern, maxLength: 255 }), Type.Null()]),
  voicemail: Type.Boolean(),
  max_contacts: Type.Integer({ minimum: 1, maximum: 100 }),
  direct_media: Type.Boolean(),
};

const CreateBody = Type.Object(
  {
    number: Type.String({ pattern: EXTENSION_RULES.number.pattern }),
    name: Type.Optional(Editable.name),
    context: Type.Optional(Editable.context),
    email: Type.Optional(Editable.email),
    voicemail: Type.Optional(Editable.voicemail),
    max_contacts: Type.Optional(Editable.max_contacts),
    direct_media: Type.Optional(Editable.direct_media),
  },
  { additionalProperties: false },
);

const PatchBody = Type.Object(
  {
    name: Type.Optional(Editable.name),
    context: Type.Optional(Editable.context),
    email: Type.Optional(Editable.email),
    voicemail: Type.Optional(Editable.voicemail),
    max_contacts: Type.Optional(Editable.max_contacts),
    direct_media: Type.Optional(Editable.direct_media),
    disabled: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);

const NumberParam = Type.Object({ number: Type.String({ pattern: EXTENSION_RULES.number.pattern }) });

/** the public view: never an HA1 or PIN */
function view(r: ExtensionRecord, source: 'database' | 'config', disabled: boolean, registered: number): Record<string, unknown> {
  return {
    number: r.number,
    name: r.name,
    context: r.context,
    email: r.email,
    voicemail: r.voicemail,
    max_contacts: r.maxContacts,
    direct_media: r.directMedia,
    source,
    disabled,
    registered,
  };
}

export function extensionRoutes(c: ConsoleContext): ApiRoute[] {
  const realm = c.cfg.sip.realm;
  const configured = () => new Map(c.cfg.extensions.map((e) => [e.number, e]));
  const registeredCount = () => {
    const n = new Map<string, number>();
    for (const b of c.location.all()) n.set(b.aor, (n.get(b.aor) ?? 0) + 1);
    return n;
  };
  const checkContext = (ctx: string | undefined) => {
    if (ctx === undefined || !c.dialplan) return;
    if (!c.dialplan.engine.dialplan.contexts.has(ctx)) {
      const known = [...c.dialplan.engine.dialplan.contexts.keys()].slice(0, 20).join(', ');
      throw new ApiError(400, 'validation', `context: "${ctx}" is not in the dialplan (${known})`, [
        { field: 'context', message: `"${ctx}" is not a context of the dialplan; known: ${known}` },
      ]);
    }
  };
  const stored = async (number: string) => {
    const r = await c.storage.extensions.get(number);
    if (!r) {
      if (configured().has(number)) throw new ApiError(409, 'configured', `extension ${number} is written in the configuration file; edit it there`);
      throw new ApiError(404, 'not-found', `no extension ${number} in the database`);
    }
    return r;
  };
  const credentials = (number: string, secret: string) => ({
    ha1Md5: computeHa1('MD5', number, realm, secret),
    ha1Sha256: computeHa1('SHA-256', number, realm, secret),
    realm,
  });
  const reload = () => c.extensions.load();
  const plain = (r: ExtensionRecord) => view(r, 'database', false, 0);

  return [
    {
      method: 'GET',
      path: '/extensions',
      roles: ['admin', 'operator'],
      tag: 'extensions',
      summary: "Extensions: the database's (editable), the configuration file's, and disabled ones",
      async handle() {
        const reg = registeredCount();
        const rows = (await c.storage.extensions.list()).map((r) => view(r, configured().has(r.number) ? 'config' : 'database', false, reg.get(r.number) ?? 0));
        const inDb = new Set(rows.map((r) => r.number));
        for (const e of c.cfg.extensions) {
          if (inDb.has(e.number)) continue;
          rows.push(
            view(
              {
                number: e.number,
                name: e.name,
                context: e.context,
                email: e.email,
                voicemail: e.voicemail,
                maxContacts: e.maxContacts,
                directMedia: e.directMedia,
              } as ExtensionRecord,
              'config',
              false,
              reg.get(e.number) ?? 0,
            ),
          );
        }
        for (const d of await c.store.disabledExtensions()) rows.push({ ...view(d.record as unknown as ExtensionRecord, 'database', true, 0) });
        rows.sort((a, b) => String(a.number).localeCompare(String(b.number)));
        return { body: rows };
      },
    },
    {
      method: 'GET',
      path: '/extensions/rules',
      roles: ['admin', 'operator'],
      tag: 'extensions',
      summary: "The server's rules for extension fields (the console validates forms with them as you type), and the dialplan's contexts",
      handle: () => ({ body: { fields: EXTENSION_RULES, contexts: c.dialplan ? [...c.dialplan.engine.dialplan.contexts.keys()] : null } }),
    },
    {
      method: 'POST',
      path: '/extensions',
      roles: ['admin'],
      tag: 'extensions',
      summary: 'Create an extension; its generated SIP secret is in the answer, once',
      body: CreateBody,
      async handle(req) {
        const b = req.body as { number: string; name?: string; context?: string; email?: string | null; voicemail?: boolean; max_contacts?: number; direct_media?: boolean };
        if (c.extensions.has(b.number) || (await c.store.disabledExtension(b.number)) !== undefined) {
          throw new ApiError(409, 'exists', `extension ${b.number} exists already`, [{ field: 'number', message: 'exists already' }]);
        }
        checkContext(b.context);
        const secret = generateSecret({ extension: b.number, name: b.name });
        const rec: ExtensionRecord = {
          number: b.number,
          name: b.name ?? b.number,
          context: b.context ?? 'default',
          email: b.email ?? null,
          voicemail: b.voicemail ?? false,
          voicemailPin: null,
          directMedia: b.direct_media ?? false,
          maxContacts: b.max_contacts ?? c.cfg.registrar.maxContacts,
          ...credentials(b.number, secret),
        };
        await c.storage.extensions.upsertMany([rec]);
        await reload();
        return { status: 201, body: { ...plain(rec), secret }, change: { action: 'extension.create', target: b.number, after: plain(rec) } };
      },
    },
    {
      method: 'PATCH',
      path: '/extensions/:number',
      roles: ['admin'],
      tag: 'extensions',
      summary: 'Edit an extension; disabled: true sets it aside (it can no longer register or call), false brings it back',
      params: NumberParam,
      body: PatchBody,
      async handle(req) {
        const number = req.params.number!;
        const b = req.body as { name?: string; context?: string; email?: string | null; voicemail?: boolean; max_contacts?: number; direct_media?: boolean; disabled?: boolean };
        checkContext(b.context);
        const disabled = await c.store.disabledExtension(number);
        let rec: ExtensionRecord = disabled ? (disabled.record as unknown as ExtensionRecord) : await stored(number);
        const before = view(rec, 'database', !!disabled, 0);
        rec = {
          ...rec,
          ...(b.name !== undefined ? { name: b.name } : {}),
          ...(b.context !== undefined ? { context: b.context } : {}),
          ...(b.email !== undefined ? { email: b.email } : {}),
          ...(b.voicemail !== undefined ? { voicemail: b.voicemail } : {}),
          ...(b.max_contacts !== undefined ? { maxContacts: b.max_contacts } : {}),
          ...(b.direct_media !== undefined ? { directMedia: b.direct_media } : {}),
        };
        const nowDisabled = b.disabled ?? !!disabled;
        if (nowDisabled) {
          await c.store.setDisabled(number, rec as unknown as Record<string, unknown>);
          await c.storage.extensions.delete(number);
        } else {
          await c.storage.extensions.upsertMany([rec]);
          if (disabled) await c.store.clearDisabled(number);
        }
        await reload();
        const after = view(rec, 'database', nowDisabled, 0);
        const action = b.disabled === true && !disabled ? 'extension.disable' : b.disabled === false && disabled ? 'extension.enable' : 'extension.update';
        return { body: after, change: { action, target: number, before, after } };
      },
    },
    {
      method: 'POST',
      path: '/extensions/:number/secret',
      roles: ['admin'],
      tag: 'extensions',
      summary: 'Give an extension a new generated secret (in the answer, once); its phones must be re-provisioned',
      params: NumberParam,
      async handle(req) {
        const number = req.params.number!;
        const rec = await stored(number);
        const secret = generateSecret({ extension: number, name: rec.name });
        await c.storage.extensions.upsertMany([{ ...rec, ...credentials(number, secret) }]);
        await reload();
        return { body: { number, secret }, change: { action: 'extension.secret', target: number } };
      },
    },
    {
      method: 'DELETE',
      path: '/extensions/:number',
      roles: ['admin'],
      tag: 'extensions',
      summary: 'Delete an extension from the database',
      params: NumberParam,
      async handle(req) {
        const number = req.params.number!;
        const disabled = await c.store.disabledExtension(number);
        if (disabled) {
          await c.store.clearDisabled(number);
          // the directory forgets the number set aside (and what was kept for it: its learned profile)
          await reload();
          return {
            body: { number, deleted: true },
            change: { action: 'extension.delete', target: number, before: view(disabled.record as unknown as ExtensionRecord, 'database', true, 0) },
          };
        }
        const rec = await stored(number);
        await c.storage.extensions.delete(number);
        await reload();
        return { body: { number, deleted: true }, change: { action: 'extension.delete', target: number, before: plain(rec) } };
      },
    },
  ];
}
