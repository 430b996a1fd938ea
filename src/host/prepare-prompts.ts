// The prompts folder the channels play from; on the first start of a fresh
// install the English prompts are made (espeak-ng + sox).
import type { PalisadeConfig } from '../config/config-types.js';
import type { Logger } from '../observability/logger.js';
import { defaultPromptDir, generatePrompts, promptsComplete } from '../media/prompts/generate-prompts.js';

export async function preparePrompts(cfg: PalisadeConfig, log: Logger): Promise<string> {
  const promptDir = cfg.prompts.dir ?? defaultPromptDir();
  if (cfg.prompts.generate && !promptsComplete(promptDir)) {
    try {
      const r = await generatePrompts(promptDir);
      log.info('prompts-generated', { dir: promptDir, generated: r.generated.length });
    } catch (err) {
      log.warn('prompts-generation-failed', { dir: promptDir, error: (err as Error).message });
    }
  }
  return promptDir;
}
