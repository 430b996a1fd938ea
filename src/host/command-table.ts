// One table of control commands, name → handler: the control socket serves
// it today, the HTTP API will tomorrow. Modules add theirs when declared.
import type { CommandHandler } from '../core/module.js';

export class CommandTable {
  private readonly handlers = new Map<string, CommandHandler>();

  add(name: string, run: CommandHandler, owner = 'core'): void {
    if (this.handlers.has(name)) throw new Error(`control command "${name}" of ${owner} is registered already`);
    this.handlers.set(name, run);
  }

  /** replaces a command's handler with one made from it (several workers gather every worker's answer) */
  wrap(name: string, make: (own: CommandHandler) => CommandHandler): void {
    const own = this.handlers.get(name);
    if (!own) throw new Error(`control command "${name}" is not registered`);
    this.handlers.set(name, make(own));
  }

  has(name: string): boolean {
    return this.handlers.has(name);
  }

  names(): string[] {
    return [...this.handlers.keys()].sort();
  }

  /** Runs a command; an unknown name is refused as the control socket always did. */
  run(name: string, args: Record<string, unknown>): unknown {
    const h = this.handlers.get(name);
    if (!h) throw new Error(`unknown command "${name}"`);
    return h(args);
  }
}
