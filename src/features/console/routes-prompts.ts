// IVR prompts through the API (issue 10): the administrator's recordings in
// prompts.custom_dir (played instead of a generated prompt of the same name,
// and by Playback()/Background() of the dialplan by name) and the generated
// set beside them. Upload takes an 8 kHz mono WAV (16-bit PCM, µ-law or
// A-law) as base64 in JSON, checked before it is written; it is written to a
// temporary file and renamed, and the next call plays it (the prompt cache
// forgets the name). Reading for admin and operator; uploading and
// deleting for admin.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Type } from 'typebox';
import type { ApiRoute } from '../../core/api-routes.js';
import { parseWav } from '../../media/player/wav-file.js';
import { defaultPromptDir } from '../../media/prompts/generate-prompts.js';
import { ApiError, type ConsoleContext } from './console-context.js';

const NAME = '^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$';
const NameParam = Type.Object({ name: Type.String({ pattern: NAME, description: 'the prompt name without .wav, e.g. ivr-welcome' }) });

export function promptRoutes(c: ConsoleContext): ApiRoute[] {
  const custom = () => c.cfg.prompts.customDir;
  const generated = () => c.cfg.prompts.dir ?? defaultPromptDir();
  const list = (dir: string | null) => {
    if (!dir || !existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((f) => f.endsWith('.wav'))
      .map((f) => ({ name: f.slice(0, -4), bytes: statSync(join(dir, f)).size }));
  };
  const needCustom = () => {
    const dir = custom();
    if (!dir) throw new ApiError(409, 'no-custom-dir', 'prompts.custom_dir is not set in palisade.yaml: set it to a folder for your recordings (docs/configuration.md, "prompts")');
    return dir;
  };
  return [
    {
      method: 'GET',
      path: '/prompts',
      roles: ['admin', 'operator'],
      tag: 'prompts',
      summary: 'Prompts: your recordings (source: custom, prompts.custom_dir) and the generated set (source: generated); a recording wins over a generated prompt of the same name',
      handle() {
        const mine = list(custom());
        const names = new Set(mine.map((p) => p.name));
        return {
          body: [
            ...mine.map((p) => ({ ...p, source: 'custom', overrides: list(generated()).some((g) => g.name === p.name) })),
            ...list(generated())
              .filter((g) => !names.has(g.name))
              .map((g) => ({ ...g, source: 'generated', overrides: false })),
          ],
        };
      },
    },
    {
      method: 'GET',
      path: '/prompts/:name',
      roles: ['admin', 'operator'],
      tag: 'prompts',
      summary: 'Download a prompt (audio/wav): your recording, else the generated one',
      params: NameParam,
      handle(req) {
        const name = req.params.name!;
        for (const dir of [custom(), generated()]) {
          if (!dir) continue;
          const p = join(dir, `${name}.wav`);
          if (existsSync(p)) return { body: readFileSync(p), contentType: 'audio/wav', headers: { 'content-disposition': `attachment; filename="${name}.wav"` } };
        }
        throw new ApiError(404, 'not-found', `no prompt ${name}`);
      },
    },
    {
      method: 'PUT',
      path: '/prompts/:name',
      roles: ['admin'],
      tag: 'prompts',
      summary: 'Upload a recording (8 kHz mono WAV, base64): it is played from the next call on',
      params: NameParam,
      body: Type.Object({ wav_base64: Type.String({ minLength: 8, maxLength: 2_000_000, contentEncoding: 'base64' }) }, { additionalProperties: false }),
      handle(req) {
        const name = req.params.name!;
        const dir = needCustom();
        const buf = Buffer.from((req.body as { wav_base64: string }).wav_base64, 'base64');
        let samples: Int16Array;
        try {
          samples = parseWav(buf, `${name}.wav`);
        } catch (err) {
          throw new ApiError(400, 'validation', (err as Error).message, [{ field: 'wav_base64', message: (err as Error).message }]);
        }
        mkdirSync(dir, { recursive: true });
        const path = join(dir, `${name}.wav`);
        const existed = existsSync(path);
        const tmp = join(dir, `.${name}.${process.pid}.tmp`);
        writeFileSync(tmp, buf, { mode: 0o640 });
        renameSync(tmp, path);
        c.prompts?.forget(name);
        const after = { name, bytes: buf.length, seconds: Math.round((samples.length / 8000) * 10) / 10 };
        return { status: existed ? 200 : 201, body: after, change: { action: existed ? 'prompt.replace' : 'prompt.upload', target: name, after } };
      },
    },
    {
      method: 'DELETE',
      path: '/prompts/:name',
      roles: ['admin'],
      tag: 'prompts',
      summary: 'Delete a recording (a generated prompt of the same name is played again)',
      params: NameParam,
      handle(req) {
        const name = req.params.name!;
        const path = join(needCustom(), `${name}.wav`);
        if (!existsSync(path)) throw new ApiError(404, 'not-found', `no recording ${name} in prompts.custom_dir`);
        const before = { name, bytes: statSync(path).size };
        rmSync(path);
        c.prompts?.forget(name);
        return { body: { name, deleted: true }, change: { action: 'prompt.delete', target: name, before } };
      },
    },
  ];
}
