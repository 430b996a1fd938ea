// The core commands' way to the running server (src/admin/control-client.ts)
// with the CLI's configuration loader bound.
import { askServer as ask, controlSocketPath as socketPath, type ControlTarget } from '../admin/control-client.js';
import { loadServerConfig } from '../host/index.js';

export { CONTROL_OPTIONS, type ControlTarget } from '../admin/control-client.js';

export function controlSocketPath(target: ControlTarget): string {
  return socketPath(target, loadServerConfig);
}

export function askServer(target: ControlTarget, cmd: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<unknown> {
  return ask(target, loadServerConfig, cmd, args, timeoutMs);
}
