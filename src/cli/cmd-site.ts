// `palisade export DIR --config FILE` and `palisade import DIR [--dry-run]
// --config FILE`: the site as files (src/features/console/site-files.ts).
// Import checks everything first — the extensions, and the dialplan files
// parsed as the loader parses them (every module's applications known) —
// and writes nothing when any of it is wrong; a running server then
// re-reads its extensions and dialplan.
import { resolve } from 'node:path';
import { parseCommandArgs } from '../admin/cli-args.js';
import { askServer, CONTROL_OPTIONS } from '../admin/control-client.js';
import { createHost, loadServerConfig } from '../host/index.js';
import { openStorage } from '../storage/database.js';
import { ConfigError } from '../config/config-error.js';
import { parseExtensionsConf } from '../dialplan/parse-extensions-conf.js';
import { ConsoleStore } from '../features/console/console-store.js';
import { applySite, exportSite, readSiteDialplan, readSiteExtensions, SiteError } from '../features/console/site-files.js';
import { applySiteObjects, exportSiteObjects, readSiteObjects, type SiteObjects } from '../features/console/site-objects.js';
import type { TrunkConfig } from '../features/trunks/trunk-config.js';
import type { RoutesConfig } from '../features/trunks/route-config.js';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const EXPORT_USAGE = 'usage: palisade export DIR --config FILE\n';
const IMPORT_USAGE = 'usage: palisade import DIR [--dry-run] --config FILE\n';

export async function runExport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS }, EXPORT_USAGE, 1);
  if (!values.config || positionals.length !== 1) {
    process.stderr.write(EXPORT_USAGE);
    return 2;
  }
  const cfg = loadServerConfig(values.config, createHost());
  const storage = await openStorage(cfg.storage);
  try {
    const store = new ConsoleStore(storage);
    await store.migrate();
    const r = await exportSite(storage, store, cfg.dialplan.file, resolve(positionals[0]!));
    const o = await exportSiteObjects(storage, resolve(positionals[0]!));
    const more = Object.entries(o)
      .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
      .join(', ');
    process.stdout.write(`exported ${r.extensions} extension(s), ${more} and ${r.dialplanFiles.length} dialplan file(s) to ${resolve(positionals[0]!)}\n`);
    return 0;
  } finally {
    await storage.close();
  }
}

export async function runImport(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, { ...CONTROL_OPTIONS, 'dry-run': 'boolean' }, IMPORT_USAGE, 1);
  if (!values.config || positionals.length !== 1) {
    process.stderr.write(IMPORT_USAGE);
    return 2;
  }
  const dir = resolve(positionals[0]!);
  const host = createHost();
  const cfg = loadServerConfig(values.config, host);
  let site: ReturnType<typeof readSiteExtensions>;
  let objects: SiteObjects;
  const dialplan = readSiteDialplan(dir);
  try {
    site = readSiteExtensions(dir);
    objects = readSiteObjects(dir, {
      trunks: (cfg.sections.trunks as TrunkConfig[] | undefined) ?? [],
      routes: cfg.sections.routes as RoutesConfig | undefined,
    });
    // the dialplan as it will be: the export's files over the current ones, parsed as the loader does
    if (cfg.dialplan.file) {
      const main = resolve(cfg.dialplan.file);
      const here = dirname(main);
      const dp = parseExtensionsConf(main, {
        registry: host.registry,
        readFile: (p) => (dirname(resolve(p)) === here && dialplan.has(basename(p)) ? dialplan.get(basename(p))! : readFileSync(p, 'utf8')),
      });
      const missing = site.filter((e) => !dp.contexts.has(e.context)).map((e) => `${e.number} (context ${e.context})`);
      if (missing.length > 0) throw new SiteError(`${join(dir, 'extensions.yaml')}: extensions whose context is not in the dialplan: ${missing.join(', ')}`);
    }
  } catch (err) {
    if (err instanceof SiteError || err instanceof ConfigError) {
      process.stderr.write(`palisade import: nothing changed:\n${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const storage = await openStorage(cfg.storage);
  let changed = false;
  try {
    const store = new ConsoleStore(storage);
    await store.migrate();
    if (values['dry-run']) {
      process.stdout.write(`would import ${site.length} extension(s) and ${dialplan.size} dialplan file(s); nothing changed\n`);
      return 0;
    }
    const plan = await applySite(storage, store, site, dialplan, cfg.dialplan.file);
    const counts = await applySiteObjects(storage, objects);
    await store.logChange({ actor: 'cli', role: 'admin', via: 'cli', remote: 'local', action: 'site.import', target: dir, after: { ...plan, ...counts } });
    changed = true;
    process.stdout.write(
      `imported: ${plan.created.length} created, ${plan.updated.length} updated, ${plan.deleted.length} deleted extension(s); ${Object.entries(counts)
        .map(([k, n]) => `${n} ${k.replace(/_/g, ' ')}`)
        .join(', ')}; ${plan.dialplanFiles.length} dialplan file(s)\n`,
    );
    return 0;
  } finally {
    await storage.close();
    if (changed) {
      // a running server takes the site at once; none running is fine
      for (const cmd of ['reload-extensions', 'trunks-reload', 'fraud-reload', ...(cfg.dialplan.file ? ['reload-dialplan'] : [])]) {
        await askServer(values, (p) => loadServerConfig(p, host), cmd, {}, 5000).catch(() => undefined);
      }
    }
  }
}
