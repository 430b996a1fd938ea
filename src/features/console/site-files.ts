// The site as files (`palisade export` / `palisade import`), so an
// administrator can keep it in git: the extensions the database holds
// (enabled and disabled, credentials as HA1 only) in extensions.yaml, and the
// dialplan's .conf files under dialplan/. Written sorted and stable, so an
// unchanged site exports byte for byte the same. Import replaces the
// database's extensions with the file's (the configuration file's own
// extensions are not touched) after checking everything first: nothing is
// written unless all of it is valid.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { Database } from '../../storage/database.js';
import type { ExtensionRecord } from '../../storage/extension-repo.js';
import type { ConsoleStore } from './console-store.js';
import { EXTENSION_RULES } from './extension-rules.js';

export interface SiteExtension {
  number: string;
  name: string;
  context: string;
  email: string | null;
  voicemail: boolean;
  voicemail_pin: string | null;
  max_contacts: number;
  direct_media: boolean;
  realm: string;
  ha1_md5: string | null;
  ha1_sha256: string | null;
  disabled: boolean;
}

export class SiteError extends Error {}

function toSite(r: ExtensionRecord, disabled: boolean): SiteExtension {
  return {
    number: r.number,
    name: r.name,
    context: r.context,
    email: r.email ?? null,
    voicemail: !!r.voicemail,
    voicemail_pin: r.voicemailPin ?? null,
    max_contacts: Number(r.maxContacts),
    direct_media: !!r.directMedia,
    realm: r.realm,
    ha1_md5: r.ha1Md5 ?? null,
    ha1_sha256: r.ha1Sha256 ?? null,
    disabled,
  };
}

function toRecord(e: SiteExtension): ExtensionRecord {
  return {
    number: e.number,
    name: e.name,
    context: e.context,
    email: e.email,
    voicemail: e.voicemail,
    voicemailPin: e.voicemail_pin,
    maxContacts: e.max_contacts,
    directMedia: e.direct_media,
    realm: e.realm,
    ha1Md5: e.ha1_md5,
    ha1Sha256: e.ha1_sha256,
  };
}

const HEADER = "# Palisade site export: the database's extensions (credentials as HA1 only; PINs as imported). Keep this repository private.\n";

/** writes DIR/extensions.yaml and DIR/dialplan/*.conf; returns what was written */
export async function exportSite(storage: Database, store: ConsoleStore, dialplanFile: string | null, dir: string): Promise<{ extensions: number; dialplanFiles: string[] }> {
  const rows = (await storage.extensions.list()).map((r) => toSite(r, false));
  for (const d of await store.disabledExtensions()) rows.push(toSite(d.record as unknown as ExtensionRecord, true));
  rows.sort((a, b) => a.number.localeCompare(b.number));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'extensions.yaml'), HEADER + stringifyYaml({ extensions: rows }), { mode: 0o600 });
  const files: string[] = [];
  if (dialplanFile) {
    const src = dirname(resolve(dialplanFile));
    mkdirSync(join(dir, 'dialplan'), { recursive: true });
    for (const f of readdirSync(src)
      .filter((x) => x.endsWith('.conf'))
      .sort()) {
      writeFileSync(join(dir, 'dialplan', f), readFileSync(join(src, f)), { mode: 0o600 });
      files.push(f);
    }
  }
  return { extensions: rows.length, dialplanFiles: files };
}

/** reads and checks DIR/extensions.yaml; every problem at once, with the entry it is in */
export function readSiteExtensions(dir: string): SiteExtension[] {
  const file = join(dir, 'extensions.yaml');
  if (!existsSync(file)) throw new SiteError(`${file} does not exist (made by palisade export)`);
  const doc = parseYaml(readFileSync(file, 'utf8')) as { extensions?: unknown } | null;
  const list = doc?.extensions;
  if (!Array.isArray(list)) throw new SiteError(`${file}: expected "extensions:" with a list`);
  const problems: string[] = [];
  const seen = new Set<string>();
  const out: SiteExtension[] = [];
  list.forEach((raw, i) => {
    const e = raw as Partial<SiteExtension>;
    const at = `${file}: extensions[${i}]`;
    const num = String(e.number ?? '');
    if (!new RegExp(EXTENSION_RULES.number.pattern).test(num)) problems.push(`${at}.number "${num}" is not ${EXTENSION_RULES.number.message}`);
    if (seen.has(num)) problems.push(`${at}.number ${num} is listed twice`);
    seen.add(num);
    if (typeof e.context !== 'string' || !new RegExp(EXTENSION_RULES.context.pattern).test(e.context)) problems.push(`${at}.context is not a dialplan context name`);
    if (!(typeof e.ha1_md5 === 'string' && /^[0-9a-f]{32}$/.test(e.ha1_md5)) && !(typeof e.ha1_sha256 === 'string' && /^[0-9a-f]{64}$/.test(e.ha1_sha256))) {
      problems.push(`${at} (${num}) has neither ha1_md5 (32 hex digits) nor ha1_sha256 (64 hex digits)`);
    }
    out.push({
      number: num,
      name: typeof e.name === 'string' ? e.name : num,
      context: String(e.context ?? 'default'),
      email: typeof e.email === 'string' ? e.email : null,
      voicemail: e.voicemail === true,
      voicemail_pin: typeof e.voicemail_pin === 'string' ? e.voicemail_pin : null,
      max_contacts: Number.isInteger(e.max_contacts) ? Number(e.max_contacts) : 10,
      direct_media: e.direct_media === true,
      realm: String(e.realm ?? ''),
      ha1_md5: e.ha1_md5 ?? null,
      ha1_sha256: e.ha1_sha256 ?? null,
      disabled: e.disabled === true,
    });
  });
  if (problems.length > 0) throw new SiteError(problems.join('\n'));
  return out;
}

/** the dialplan files of an export, name → text */
export function readSiteDialplan(dir: string): Map<string, string> {
  const d = join(dir, 'dialplan');
  const out = new Map<string, string>();
  if (!existsSync(d)) return out;
  for (const f of readdirSync(d)
    .filter((x) => x.endsWith('.conf'))
    .sort())
    out.set(f, readFileSync(join(d, f), 'utf8'));
  return out;
}

export interface ImportPlan {
  created: string[];
  updated: string[];
  deleted: string[];
  dialplanFiles: string[];
}

/** replaces the database's extensions with the site's and writes its dialplan files (each atomically) */
export async function applySite(storage: Database, store: ConsoleStore, site: SiteExtension[], dialplan: Map<string, string>, dialplanFile: string | null): Promise<ImportPlan> {
  const current = new Map((await storage.extensions.list()).map((r) => [r.number, r]));
  const disabledNow = new Map((await store.disabledExtensions()).map((d) => [d.number, d.record]));
  const wanted = new Set(site.map((e) => e.number));
  const plan: ImportPlan = { created: [], updated: [], deleted: [], dialplanFiles: [] };
  for (const e of site) {
    const before = current.get(e.number) ?? (disabledNow.get(e.number) as unknown as ExtensionRecord | undefined);
    if (!before) plan.created.push(e.number);
    else if (JSON.stringify(toSite(before, disabledNow.has(e.number))) !== JSON.stringify(e)) plan.updated.push(e.number);
  }
  for (const n of [...current.keys(), ...disabledNow.keys()]) if (!wanted.has(n)) plan.deleted.push(n);
  // one enabled again is the same holder: when it was made comes back with it
  const enabled = site
    .filter((e) => !e.disabled)
    .map((e) => {
      const made = disabledNow.get(e.number)?.createdAt as number | undefined;
      return made !== undefined ? { ...toRecord(e), createdAt: made } : toRecord(e);
    });
  await storage.extensions.upsertMany(enabled);
  for (const e of site.filter((x) => x.disabled)) {
    // the same holder set aside: when it was made goes with it (its learned calling profile stays its own)
    const made = current.get(e.number)?.createdAt ?? (disabledNow.get(e.number)?.createdAt as number | undefined);
    await store.setDisabled(e.number, { ...toRecord(e), ...(made !== undefined ? { createdAt: made } : {}) } as unknown as Record<string, unknown>);
    await storage.extensions.delete(e.number);
  }
  for (const e of site.filter((x) => !x.disabled)) if (disabledNow.has(e.number)) await store.clearDisabled(e.number);
  for (const n of plan.deleted) {
    await storage.extensions.delete(n);
    await store.clearDisabled(n);
  }
  if (dialplanFile && dialplan.size > 0) {
    const target = dirname(resolve(dialplanFile));
    for (const [name, text] of dialplan) {
      const p = join(target, basename(name));
      writeFileSync(`${p}.tmp`, text, { mode: 0o600 });
      renameSync(`${p}.tmp`, p);
      plan.dialplanFiles.push(name);
    }
  }
  return plan;
}
