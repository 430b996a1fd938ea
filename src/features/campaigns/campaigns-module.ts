// The campaigns module: outbound campaigns with a progressive dialer
// (campaign-service.ts), contacts from CSV, the do-not-call list, agents'
// dispositions and forms, results as CSV. The control commands (the one
// command table: the CLI now, the HTTP API and console later):
//
//   campaign-create {name, exten, context?, callerid?, max_concurrent?, cps?, retries?, retry_delay?,
//                    ring_timeout?, window?, timezone?, permissions?, calls_per_minute?,
//                    daily_spend_limit?, routes?, dispositions?, form?}
//   campaign-import {campaign, csv}           CSV text with a header line; the report names bad lines
//   campaign-start {campaign} / campaign-pause {campaign}
//   campaign-status {campaign?}                progress, counts by result, calls in progress
//   campaign-results {campaign}                {csv}: one row per contact
//   campaign-disposition {campaign, number, disposition, fields?, agent?}
//   campaign-dnc-add {numbers} / campaign-dnc-remove {number} / campaign-dnc-list
//
// `palisade campaign ...` asks the running server (cli/cmd-campaign.ts).
import type { Kysely } from 'kysely';
import type { CliCommand, ModuleDeclarations, PalisadeModule } from '../../core/module.js';
import type { MapReader } from '../../config/yaml-reader.js';
import type { PalisadeConfig } from '../../config/config-types.js';
import type { DialplanApp } from '../../dialplan/app-types.js';
import type { DialplanFunction } from '../../dialplan/funcs/func-types.js';
import type { LogRoot } from '../../observability/logger.js';
import type { Database } from '../../storage/database.js';
import type { CallGateApi } from '../../core/call-gate.js';
import type { OriginateRequest, OriginateResult } from '../../channel/originate.js';
import { CampaignService, CAMPAIGN_MIGRATIONS } from './campaign-service.js';
import { CampaignInputError, parseCampaignDef } from './campaign-def.js';
import { campaignCli } from './cli/cmd-campaign.js';

export interface CampaignsModuleServices {
  cfg: PalisadeConfig;
  logs: LogRoot;
  storage: Database;
  defences: { callGate: CallGateApi };
  extensions: { has(n: string): boolean };
  originate: ((r: OriginateRequest) => Promise<OriginateResult>) | null;
}

function str(args: Record<string, unknown>, key: string): string {
  const v = args[key];
  if (typeof v !== 'string' && typeof v !== 'number') throw new CampaignInputError(`${key} is required`);
  const s = String(v).trim();
  if (!s) throw new CampaignInputError(`${key} is required`);
  return s;
}

export function campaignsModule(): PalisadeModule<ModuleDeclarations<DialplanApp, DialplanFunction, MapReader, PalisadeConfig>, CampaignsModuleServices> {
  let svc: CampaignService | null = null;
  const need = (): CampaignService => {
    if (!svc) throw new CampaignInputError('campaigns are not running');
    return svc;
  };
  return {
    name: 'campaigns',
    declare(d) {
      d.command('campaign-create', (args) => {
        const def = parseCampaignDef(args);
        need().create(def);
        return { ok: true, campaign: def.name };
      });
      d.command('campaign-import', (args) => {
        const csv = args.csv;
        if (typeof csv !== 'string' || csv.length === 0) throw new CampaignInputError('csv is required (the CSV text, a header line naming "number")');
        if (csv.length > 50_000_000) throw new CampaignInputError('csv: at most 50 MB at once');
        const r = need().importCsv(str(args, 'campaign'), csv);
        return { imported: r.imported.length, bad: r.bad, total: r.total };
      });
      d.command('campaign-start', (args) => {
        need().setState(str(args, 'campaign'), 'running');
        return { ok: true };
      });
      d.command('campaign-pause', (args) => {
        need().setState(str(args, 'campaign'), 'paused');
        return { ok: true };
      });
      d.command('campaign-status', (args) => {
        const name = typeof args.campaign === 'string' && args.campaign ? args.campaign : undefined;
        if (name) need().get(name);
        return need().status(name);
      });
      d.command('campaign-results', async (args) => {
        const s = need();
        const csv = s.resultsCsv(str(args, 'campaign'));
        await s.flush();
        return { csv };
      });
      d.command('campaign-disposition', (args) => {
        const raw = args.fields ?? {};
        if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CampaignInputError('fields must be an object of form field → value');
        const fields: Record<string, string> = {};
        for (const [k, v] of Object.entries(raw as Record<string, unknown>)) fields[k] = String(v ?? '');
        need().setDisposition(str(args, 'campaign'), str(args, 'number'), str(args, 'disposition'), fields, typeof args.agent === 'string' ? args.agent.slice(0, 80) : '');
        return { ok: true };
      });
      d.command('campaign-dnc-add', (args) => {
        const v = args.numbers;
        const list = Array.isArray(v) ? v.map(String) : typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : [];
        if (list.length === 0) throw new CampaignInputError('numbers is required');
        return need().addDnc(list);
      });
      d.command('campaign-dnc-remove', (args) => ({ removed: need().removeDnc(str(args, 'number')) }));
      d.command('campaign-dnc-list', () => [...need().dnc].sort());
      d.status('campaigns', () =>
        svc
          ? {
              campaigns: svc.campaigns.size,
              running: [...svc.campaigns.values()].filter((c) => c.state === 'running').length,
              calls: [...svc.campaigns.values()].reduce((n, c) => n + c.active, 0),
            }
          : null,
      );
      d.cli(campaignCli as CliCommand);
    },
    async start(s) {
      await s.storage.migrateModule('campaigns', CAMPAIGN_MIGRATIONS);
      const logger = s.logs.get('campaigns');
      svc = new CampaignService({
        // biome-ignore lint/suspicious/noExplicitAny: the module's own tables
        db: s.storage.kysely as unknown as Kysely<any>,
        originate: s.originate,
        gate: s.defences.callGate,
        isExtension: (n) => s.extensions.has(n),
        logger,
      });
      await svc.load();
      svc.start();
      logger.info('campaigns-started', { campaigns: svc.campaigns.size, dnc: svc.dnc.size });
    },
    async stop() {
      await svc?.stop();
      svc = null;
    },
  };
}
