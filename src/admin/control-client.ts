// How a command reaches the running server: over the control socket that
// --socket names, or else the one in the configuration that --config names
// (read with the loader the caller hands in: the CLI's, which knows every
// module's sections).
import { controlRequest } from './control-socket.js';

/** the options of every command that talks to the running server */
export const CONTROL_OPTIONS = { config: 'string', socket: 'string' } as const;

export interface ControlTarget {
  config?: string;
  socket?: string;
}

/** reads the configuration file --config names */
export type ControlConfigLoader = (path: string) => { control: { socket: string } };

/** the control socket's path: --socket, or control.socket of --config's file */
export function controlSocketPath(target: ControlTarget, loadConfig: ControlConfigLoader): string {
  if (target.socket) return target.socket;
  if (!target.config) throw new Error('--config FILE (or --socket PATH) is required');
  return loadConfig(target.config).control.socket;
}

/** one request to the running server; rejects when it is not running or answers with an error */
export function askServer(target: ControlTarget, loadConfig: ControlConfigLoader, cmd: string, args: Record<string, unknown> = {}, timeoutMs?: number): Promise<unknown> {
  return controlRequest(controlSocketPath(target, loadConfig), cmd, args, timeoutMs);
}
