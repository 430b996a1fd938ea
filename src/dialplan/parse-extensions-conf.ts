// The extensions.conf language as Asterisk administrators write it:
//
//   [general]                      ; static=yes etc. — accepted, ignored
//   [globals]
//   OPERATOR=1000                  ; starting value of ${OPERATOR} on every call
//   [internal]
//   include => features            ; searched after this context, in order
//   exten => _1XXX,1,Dial(SIP/${EXTEN},20)
//    same => n(busy),VoiceMail(${EXTEN})
//   exten => 1000/1001,1,NoOp(only when the caller is 1001)
//   exten => 1000,hint,SIP/1000    ; tolerated (presence is not driven by it)
//   #include "more.conf"           ; relative to this file
//
// Comments start at ';' (write '\;' for a literal semicolon); ';-- ... --;'
// is a block comment that may span lines. As in Asterisk there is no line
// continuation: a long exten line stays one line, and `same =>` continues the
// extension. Every problem is collected with file:line:col, what was
// expected and a hint, and thrown as one ConfigError.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError, type ConfigIssue } from '../config/config-error.js';
import type { ExtensionConfig, SourcePos } from '../config/config-types.js';
import type { Context, Dialplan, Extension, Step } from './dialplan-types.js';
import { PatternMatcher, parsePattern } from './matcher.js';
import { DialplanRegistry } from './dialplan-registry.js';
import { gosubTarget } from './apps/app-gosub.js';
import { topLevelIndex } from './app-args.js';
import { parseTimeSpec } from './time-spec.js';
import { editDistance } from '../core/edit-distance.js';

export interface ParseOptions {
  /** reads an included file (tests pass a map); defaults to the file system */
  readFile?: (path: string) => string;
  /** the applications and functions a step may name; default: the built-in ones only */
  registry?: DialplanRegistry;
}

const CONTEXT_RE = /^[A-Za-z0-9_-]+$/;
const APP_RE = /^[A-Za-z][A-Za-z0-9_]*$/;
const VAR_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

export function closest(name: string, candidates: string[]): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  for (const c of candidates) {
    const d = editDistance(name.toLowerCase(), c.toLowerCase()); // the hint ignores case: playback → Playback
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(name.length / 3)) ? best : null;
}

/** Reads and parses an extensions.conf file (and what it #includes). */
export function parseExtensionsConf(path: string, opts: ParseOptions = {}): Dialplan {
  const p = new Parser(opts);
  p.parseFile(resolve(path), null);
  return p.finish();
}

/** Parses extensions.conf text; `fileName` names it in errors and anchors #include paths. */
export function parseExtensionsConfText(text: string, fileName: string, opts: ParseOptions = {}): Dialplan {
  const p = new Parser(opts);
  p.parseText(text, fileName);
  return p.finish();
}

/**
 * Load-time check (docs/configuration.md, `extensions`): every extension's context must exist in the
 * dialplan. The error points at the extension's context in the YAML.
 */
export function checkExtensionContexts(dp: Dialplan, extensions: readonly ExtensionConfig[]): void {
  const issues: ConfigIssue[] = [];
  const names = [...dp.contexts.keys()];
  for (const e of extensions) {
    if (dp.contexts.has(e.context)) continue;
    const near = closest(e.context, names);
    issues.push({
      ...e.contextAt,
      message:
        `extension ${e.number} uses context "${e.context}", which the dialplan (${dp.files[0] ?? 'extensions.conf'}) does not define; ` +
        `expected one of: ${names.join(', ') || '(none)'}` +
        (near ? `; did you mean ${near}?` : `; add [${e.context}] to the dialplan or change the extension's context`),
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
}

interface Raw {
  text: string;
  col: number; // 1-based column of text[0]
}

class Parser {
  private readonly issues: ConfigIssue[] = [];
  private readonly contexts = new Map<string, Context>();
  private readonly globals = new Map<string, string>();
  private readonly files: string[] = [];
  private readonly stack: string[] = [];
  private section: { kind: 'none' | 'general' | 'globals' | 'context'; ctx?: Context } = { kind: 'none' };
  /** the extension the last exten/same line added to, for `same =>` and `n` */
  private last: { ctx: Context; ext: Extension; priority: number } | null = null;

  private readonly registry: DialplanRegistry;

  constructor(private readonly opts: ParseOptions) {
    this.registry = opts.registry ?? DialplanRegistry.builtin();
  }

  private err(file: string, line: number, col: number, message: string): void {
    this.issues.push({ file, line, col, message });
  }

  parseFile(path: string, from: SourcePos | null): void {
    if (this.stack.includes(path)) {
      if (from) this.err(from.file, from.line, from.col, `#include of ${path} loops back to a file that is already being read; remove the circular #include`);
      return;
    }
    let text: string;
    try {
      text = (this.opts.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : `cannot be read (${(e as Error).message})`;
      if (from) this.err(from.file, from.line, from.col, `#include "${path}" ${why}; expected a file path relative to ${from.file}`);
      else this.err(path, 1, 1, `dialplan file ${why}; set dialplan.file to an existing extensions.conf`);
      return;
    }
    this.parseText(text, path);
  }

  parseText(text: string, file: string): void {
    this.files.push(file);
    this.stack.push(file);
    const lines = text.split(/\r?\n/);
    let inBlock = false;
    for (let n = 0; n < lines.length; n++) {
      const lineNo = n + 1;
      let line = lines[n]!;
      // block comments ;-- ... --; (Asterisk config.c)
      if (inBlock) {
        const end = line.indexOf('--;');
        if (end < 0) continue;
        line = ' '.repeat(end + 3) + line.slice(end + 3);
        inBlock = false;
      }
      const cut = commentStart(line);
      if (cut >= 0) {
        if (line.startsWith(';--', cut)) {
          const end = line.indexOf('--;', cut + 3);
          if (end < 0) inBlock = true;
          else {
            // a block comment closed on the same line: blank it and keep scanning
            lines[n] = line.slice(0, cut) + ' '.repeat(end + 3 - cut) + line.slice(end + 3);
            n--;
            continue;
          }
        }
        line = line.slice(0, cut);
      }
      const lead = line.length - line.trimStart().length;
      const body = line.trim();
      if (body === '') continue;
      this.parseLine(file, lineNo, { text: body, col: lead + 1 });
    }
    if (inBlock) this.err(file, lines.length, 1, "block comment ';--' is never closed; end it with '--;'");
    this.stack.pop();
  }

  private parseLine(file: string, line: number, raw: Raw): void {
    const t = raw.text;
    if (t.startsWith('#')) return this.directive(file, line, raw);
    if (t.startsWith('[')) return this.header(file, line, raw);
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*(=>|=)\s*/.exec(t);
    if (!m) {
      this.err(file, line, raw.col, `cannot read "${t}"; expected [context], exten => ..., same => ..., include => ... or #include "file"`);
      return;
    }
    const key = m[1]!;
    const value: Raw = { text: t.slice(m[0].length).trimEnd(), col: raw.col + m[0].length };
    switch (this.section.kind) {
      case 'none':
        this.err(file, line, raw.col, `"${key}" appears before any [context]; start the file with a [context] line such as [internal]`);
        return;
      case 'general':
        return; // static=, writeprotect=, autofallthrough=... have no meaning here
      case 'globals':
        if (!VAR_RE.test(key)) this.err(file, line, raw.col, `global variable name "${key}" is not valid; expected letters, digits and _`);
        else this.globals.set(key, unescapeSemicolons(value.text));
        return;
      case 'context':
        break;
    }
    const ctx = this.section.ctx!;
    switch (key.toLowerCase()) {
      case 'exten':
        return this.exten(file, line, ctx, value, false);
      case 'same':
        return this.exten(file, line, ctx, value, true);
      case 'include': {
        // include => context[,times,weekdays,mdays,months[,timezone]] (Asterisk's time-restricted include)
        const comma = value.text.indexOf(',');
        const name = (comma < 0 ? value.text : value.text.slice(0, comma)).trim();
        if (!CONTEXT_RE.test(name)) {
          this.err(file, line, value.col, `include => "${name}" is not a context name; expected letters, digits, _ and -`);
          return;
        }
        if (comma < 0) {
          ctx.includes.push({ context: name, at: { file, line, col: value.col } });
          return;
        }
        const time = parseTimeSpec(value.text.slice(comma + 1).trim());
        if ('error' in time) {
          this.err(file, line, value.col + comma + 1, `include => ${name}: ${time.error}`);
          return;
        }
        ctx.includes.push({ context: name, at: { file, line, col: value.col }, time });
        return;
      }
      case 'ignorepat':
        return; // only meaningful for overlap dialling on analogue lines
      case 'switch':
      case 'lswitch':
      case 'eswitch':
        this.err(file, line, raw.col, `${key} => is not supported (it hands calls to another server's dialplan); use Dial() to a trunk instead`);
        return;
      default: {
        const near = closest(key, ['exten', 'same', 'include', 'ignorepat']);
        this.err(file, line, raw.col, `unknown keyword "${key}" in [${ctx.name}]; expected exten, same or include${near ? ` — did you mean ${near}?` : ''}`);
      }
    }
  }

  private directive(file: string, line: number, raw: Raw): void {
    const m = /^#(\w+)\s*(.*)$/.exec(raw.text);
    const word = m?.[1]?.toLowerCase();
    if (word === 'include' || word === 'tryinclude') {
      let target = m![2]!.trim();
      if ((target.startsWith('"') && target.endsWith('"')) || (target.startsWith('<') && target.endsWith('>'))) target = target.slice(1, -1);
      if (!target) {
        this.err(file, line, raw.col, '#include needs a file name; expected #include "other.conf"');
        return;
      }
      const path = isAbsolute(target) ? target : resolve(dirname(file), target);
      if (word === 'tryinclude') {
        try {
          (this.opts.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(path);
        } catch {
          return;
        }
      }
      this.parseFile(path, { file, line, col: raw.col });
      return;
    }
    if (word === 'exec') {
      this.err(file, line, raw.col, '#exec is not supported (it would run a program at every load); generate the file beforehand and #include it');
      return;
    }
    this.err(file, line, raw.col, `unknown directive "${raw.text.split(/\s/)[0]}"; expected #include "file"`);
  }

  private header(file: string, line: number, raw: Raw): void {
    const m = /^\[([^\]]*)\](.*)$/.exec(raw.text);
    if (!m) {
      this.err(file, line, raw.col, `unbalanced brackets in "${raw.text}"; a context header is [name]`);
      return;
    }
    const name = m[1]!.trim();
    const rest = m[2]!.trim();
    this.last = null;
    if (rest !== '' && rest !== '(+)') {
      this.err(file, line, raw.col + m[1]!.length + 2, `unexpected "${rest}" after [${name}]; templates are not supported, only (+) to add to a context`);
    }
    const lower = name.toLowerCase();
    if (lower === 'general') {
      this.section = { kind: 'general' };
      return;
    }
    if (lower === 'globals') {
      this.section = { kind: 'globals' };
      return;
    }
    if (!CONTEXT_RE.test(name)) {
      this.err(file, line, raw.col + 1, `context name "${name}" is not valid; expected letters, digits, _ and - such as [internal]`);
      this.section = { kind: 'context', ctx: this.newContext('\u0000bad', file, line, raw.col) };
      return;
    }
    // Repeating a [context] adds to it, as Asterisk's pbx_config does.
    let ctx = this.contexts.get(name);
    if (!ctx) {
      ctx = this.newContext(name, file, line, raw.col);
      this.contexts.set(name, ctx);
    }
    this.section = { kind: 'context', ctx };
  }

  private newContext(name: string, file: string, line: number, col: number): Context {
    return { name, extensions: new Map(), includes: [], matcher: new PatternMatcher<Extension>(), at: { file, line, col } };
  }

  private exten(file: string, line: number, ctx: Context, value: Raw, same: boolean): void {
    let fields = splitTop(value.text, same ? 1 : 2);
    // an unclosed '[' would swallow the commas: split plainly so the pattern check can name it
    if (fields.length < (same ? 2 : 3) && value.text.includes('['))
      fields = splitTop(value.text.replace(/[[\]]/g, ' '), same ? 1 : 2).map((f) => ({ text: value.text.slice(f.off, f.off + f.text.length), off: f.off }));
    let ext: Extension;
    let prioField: { text: string; off: number };
    let appField: { text: string; off: number } | undefined;
    if (same) {
      if (!this.last || this.last.ctx !== ctx) {
        this.err(file, line, value.col, 'same => needs an exten => line before it in this context; write exten => NUMBER,1,App() first');
        return;
      }
      ext = this.last.ext;
      prioField = fields[0]!;
      appField = fields[1];
    } else {
      const nameField = fields[0]!;
      if (fields.length < 3) {
        this.err(file, line, value.col, `exten => "${value.text}" is incomplete; expected exten => NUMBER,PRIORITY,Application(arguments)`);
        return;
      }
      prioField = fields[1]!;
      appField = fields[2];
      const got = this.extension(file, line, ctx, nameField.text.trim(), value.col + nameField.off);
      if (!got) return;
      ext = got;
    }
    const pcol = value.col + prioField.off + (prioField.text.length - prioField.text.trimStart().length);
    const prioText = prioField.text.trim();
    if (prioText.toLowerCase() === 'hint') {
      ext.hint = appField?.text.trim() ?? '';
      return;
    }
    if (!appField || appField.text.trim() === '') {
      this.err(file, line, pcol, `missing application after priority ${prioText}; expected PRIORITY,Application(arguments) such as 1,Answer()`);
      return;
    }
    const pm = /^(\d+|[ns](?:\+\d+)?)(?:\(([^()]*)\))?$/i.exec(prioText);
    if (!pm) {
      const hint = /\($/.test(prioText) || prioText.includes('(') ? ' (a label is written n(name) with balanced parentheses)' : '';
      this.err(file, line, pcol, `bad priority "${prioText}"; expected a number from 1, n, n(label) or hint${hint}`);
      return;
    }
    let priority: number;
    const p = pm[1]!.toLowerCase();
    if (/^\d+$/.test(p)) {
      priority = Number(p);
      if (priority < 1) {
        this.err(file, line, pcol, `bad priority "${prioText}"; priorities start at 1`);
        return;
      }
    } else {
      const prev = this.last && this.last.ext === ext ? this.last.priority : ext.steps.length > 0 ? ext.steps[ext.steps.length - 1]!.priority : 0;
      if (prev === 0) {
        this.err(file, line, pcol, `priority "${prioText}" on the first line of extension ${ext.name} in [${ctx.name}]; the first priority is 1`);
        return;
      }
      // n = the previous priority + 1, s = the same; either may add +N (Asterisk's extensions.conf)
      priority = (p[0] === 'n' ? prev + 1 : prev) + (p.length > 1 ? Number(p.slice(2)) : 0);
    }
    const label = pm[2]?.trim() || null;
    if (label !== null && !/^[A-Za-z0-9_-]+$/.test(label)) {
      this.err(file, line, pcol, `label "${label}" is not valid; expected letters, digits, _ and -`);
      return;
    }
    const acol = value.col + appField.off + (appField.text.length - appField.text.trimStart().length);
    const app = this.application(file, line, acol, appField.text.trim());
    if (!app) return;
    const dup = ext.byPriority.get(priority);
    if (dup) {
      this.err(
        file,
        line,
        pcol,
        `priority ${priority} of extension ${ext.name} in [${ctx.name}] is already defined at ${dup.at.file}:${dup.at.line}; use n for the next priority or renumber`,
      );
      return;
    }
    if (label !== null && ext.byLabel.has(label)) {
      const other = ext.byLabel.get(label)!;
      this.err(
        file,
        line,
        pcol,
        `label "${label}" is used twice in extension ${ext.name} of [${ctx.name}] (first at ${other.at.file}:${other.at.line}); labels must be unique per extension`,
      );
      return;
    }
    const step: Step = { priority, label, app: app.name, data: app.data, at: { file, line, col: acol } };
    ext.byPriority.set(priority, step);
    if (label !== null) ext.byLabel.set(label, step);
    ext.steps.push(step);
    if (ext.steps.length > 1 && ext.steps[ext.steps.length - 2]!.priority > priority) ext.steps.sort((a, b) => a.priority - b.priority);
    this.last = { ctx, ext, priority };
  }

  private extension(file: string, line: number, ctx: Context, spec: string, col: number): Extension | null {
    const slash = spec.indexOf('/');
    const name = (slash >= 0 ? spec.slice(0, slash) : spec).trim();
    const cid = slash >= 0 ? spec.slice(slash + 1).trim() : null;
    if (name === '' || /\s/.test(name)) {
      this.err(file, line, col, `extension "${name}" is not valid; expected digits (1001), a name (s, h, i, t) or a pattern (_X.)`);
      return null;
    }
    for (const [what, text, c] of [
      ['pattern', name, col],
      ['caller-ID pattern', cid, col + name.length + 1],
    ] as const) {
      if (text === null || !text.startsWith('_')) continue;
      const r = parsePattern(text);
      if (!Array.isArray(r)) {
        this.err(file, line, c + r.offset, `${what} ${text}: ${r.error}`);
        return null;
      }
    }
    if (cid === '') {
      this.err(file, line, col + name.length, `empty caller-ID match after "/" in ${spec}; write exten => ${name}/1001,... or drop the "/"`);
      return null;
    }
    const key = cid === null ? name : `${name}/${cid}`;
    let ext = ctx.extensions.get(key);
    if (!ext) {
      ext = { name, cid, steps: [], byPriority: new Map(), byLabel: new Map(), hint: null, at: { file, line, col } };
      ctx.extensions.set(key, ext);
    }
    return ext;
  }

  private application(file: string, line: number, col: number, text: string): { name: string; data: string } | null {
    const open = text.indexOf('(');
    let name: string;
    let data: string;
    if (open < 0) {
      // the old syntax: App,data  (or App alone)
      const comma = text.indexOf(',');
      name = (comma < 0 ? text : text.slice(0, comma)).trim();
      data = comma < 0 ? '' : text.slice(comma + 1);
    } else {
      name = text.slice(0, open).trim();
      if (!text.endsWith(')')) {
        const why = balance(text.slice(open));
        this.err(
          file,
          line,
          col + open,
          why ??
            `unbalanced parentheses in ${name}(...: expected the line to end with ")" closing the arguments; found "${text.slice(text.lastIndexOf(')') + 1 || open + 1).slice(0, 20)}" after it`,
        );
        return null;
      }
      data = text.slice(open + 1, -1);
    }
    if (!APP_RE.test(name)) {
      this.err(file, line, col, `"${name}" is not an application name; expected Application(arguments) such as Playback(hello-world)`);
      return null;
    }
    const app = this.registry.findApp(name);
    if (!app) {
      const names = this.registry.appNames();
      const near = closest(name, names);
      this.err(file, line, col, `unknown application "${name}"${near ? `; did you mean ${near}?` : ''} (known: ${names.join(', ')})`);
      return null;
    }
    const bad = balance(data);
    if (bad) {
      this.err(file, line, col + (open < 0 ? name.length + 1 : open + 1), `${app.name}(${data}): ${bad}`);
      return null;
    }
    const fn = unknownFunction(data, this.registry);
    if (fn) {
      const names = this.registry.functionNames();
      const near = closest(fn.name, names);
      this.err(
        file,
        line,
        col + (open < 0 ? name.length + 1 : open + 1) + fn.offset,
        `unknown function ${fn.name}()${near ? `; did you mean ${near}?` : ''} (available: ${names.join(', ')})`,
      );
      return null;
    }
    return { name: app.name, data: unescapeSemicolons(data) };
  }

  /**
   * A Goto/GotoIf whose target is written out (no ${...}) must land somewhere:
   * a typo'd label is reported at load instead of hanging up a caller.
   */
  private checkJumps(): void {
    for (const ctx of this.contexts.values()) {
      for (const ext of ctx.extensions.values()) {
        for (const step of ext.steps) {
          if (step.app !== 'Goto' && step.app !== 'GotoIf' && step.app !== 'Gosub') continue;
          let targets: string[];
          if (step.app === 'Goto') targets = [step.data];
          else if (step.app === 'Gosub') targets = [gosubTarget(step.data).parts.join(',')];
          else {
            const q = topLevelIndex(step.data, '?');
            if (q < 0) {
              this.err(step.at.file, step.at.line, step.at.col, `GotoIf(${step.data}): expected condition?iftrue:iffalse`);
              continue;
            }
            const rest = step.data.slice(q + 1);
            const colon = topLevelIndex(rest, ':');
            targets = colon < 0 ? [rest] : [rest.slice(0, colon), rest.slice(colon + 1)];
          }
          for (const t of targets) {
            // a computed target (${...}) can only be checked when the call runs
            if (t.trim() === '' || t.includes('$')) continue;
            const why = this.jumpProblem(
              ctx,
              ext,
              t.split(',').map((x) => x.trim()),
            );
            if (why) this.err(step.at.file, step.at.line, step.at.col, `${step.app}(${step.data}): ${why}`);
          }
        }
      }
    }
  }

  private jumpProblem(ctx: Context, ext: Extension, p: string[]): string | null {
    if (p.length > 3 || p[p.length - 1] === '') return 'expected [[context,]extension,]priority';
    const context = p.length === 3 ? p[0]! : ctx.name;
    const prio = p[p.length - 1]!;
    if (!this.contexts.has(context)) {
      const near = closest(context, [...this.contexts.keys()]);
      return `no context [${context}]${near ? `; did you mean ${near}?` : ''}`;
    }
    let target: Extension | null = ext;
    if (p.length >= 2 && p[p.length - 2] !== '') {
      target = findIn(this.contexts, context, p[p.length - 2]!);
      if (!target) return `no extension ${p[p.length - 2]} in [${context}] or its includes`;
    } else if (context !== ctx.name) return 'a context needs an extension too: Goto(context,extension,priority)';
    if (/^\d+$/.test(prio)) return target.byPriority.has(Number(prio)) ? null : `extension ${target.name} has no priority ${prio}`;
    if (target.byLabel.has(prio)) return null;
    const near = closest(prio, [...target.byLabel.keys()]);
    return `no label "${prio}" in extension ${target.name} of [${context}]${near ? `; did you mean ${near}?` : ''}`;
  }

  finish(): Dialplan {
    for (const ctx of this.contexts.values()) {
      for (const inc of ctx.includes) {
        if (!this.contexts.has(inc.context)) {
          const near = closest(inc.context, [...this.contexts.keys()]);
          this.err(
            inc.at.file,
            inc.at.line,
            inc.at.col,
            `include => ${inc.context}: no context [${inc.context}] in the dialplan${near ? `; did you mean ${near}?` : '; define it or remove the include'}`,
          );
        }
      }
      // caller-ID-specific extensions are tried before the generic ones (Asterisk "matchcid")
      const exts = [...ctx.extensions.values()].sort((a, b) => (a.cid === null ? 1 : 0) - (b.cid === null ? 1 : 0));
      for (const e of exts) {
        if (e.steps.length === 0 && e.hint === null) continue;
        if (e.steps.length > 0) ctx.matcher.add(e.name, e);
      }
    }
    this.contexts.delete('\u0000bad');
    if (this.issues.length === 0) this.checkJumps();
    if (this.issues.length > 0) throw new ConfigError(this.issues);
    return { contexts: this.contexts, globals: this.globals, files: this.files };
  }
}

/** Finds an extension as the engine will: the context, then its includes in order. */
function findIn(contexts: Map<string, Context>, context: string, exten: string, seen = new Set<string>()): Extension | null {
  if (seen.has(context)) return null;
  seen.add(context);
  const ctx = contexts.get(context);
  if (!ctx) return null;
  const e = ctx.matcher.match(exten);
  if (e) return e;
  for (const inc of ctx.includes) {
    const f = findIn(contexts, inc.context, exten, seen);
    if (f) return f;
  }
  return null;
}

/** Index of the first ';' that starts a comment (not escaped as '\;'), or -1. */
function commentStart(line: string): number {
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (c === ';') return i;
  }
  return -1;
}

/** '\;' → ';' (Asterisk's config reader does this before the dialplan sees the line). */
function unescapeSemicolons(s: string): string {
  return s.replace(/\\;/g, ';');
}

/** Splits at the first `count` commas outside [...] (a pattern's set may hold commas). */
function splitTop(text: string, count: number): Array<{ text: string; off: number }> {
  const out: Array<{ text: string; off: number }> = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length && out.length < count; i++) {
    const c = text[i];
    if (c === '[') depth++;
    else if (c === ']' && depth > 0) depth--;
    else if (c === ',' && depth === 0) {
      out.push({ text: text.slice(start, i), off: start });
      start = i + 1;
    }
  }
  out.push({ text: text.slice(start), off: start });
  return out;
}

/** Why `${`, `$[` and parentheses in application data do not balance, or null. */
export function balance(data: string): string | null {
  const stack: string[] = [];
  let quoted = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === '\\') {
      i++;
      continue;
    }
    if (c === '$' && (data[i + 1] === '{' || data[i + 1] === '[')) {
      stack.push(data[i + 1] === '{' ? '}' : ']');
      i++;
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === '(' && !quoted) stack.push(')');
    else if (c === '[' && stack.length > 0 && stack[stack.length - 1] === ']') stack.push(']');
    else if (c === '}' || c === ']' || (c === ')' && !quoted)) {
      if (stack.length > 0 && stack[stack.length - 1] === c) stack.pop();
      else if (c === ')') return `unbalanced parentheses: ")" at argument offset ${i + 1} closes nothing`;
      else if (stack.includes(c)) return `unbalanced brackets: "${c}" at argument offset ${i + 1} closes before "${stack[stack.length - 1]}" is closed`;
    }
  }
  if (stack.length > 0) {
    const want = stack[stack.length - 1]!;
    const what = want === '}' ? 'a ${ is never closed; add "}"' : want === ']' ? 'a $[ is never closed; add "]"' : 'a "(" is never closed; add ")"';
    return `unbalanced ${want === ')' ? 'parentheses' : 'brackets'}: ${what}`;
  }
  return null;
}

/** The first ${NAME(...)} whose function is not provided, with its offset in data. */
function unknownFunction(data: string, registry: DialplanRegistry): { name: string; offset: number } | null {
  const re = /\$\{([A-Za-z_][A-Za-z0-9_]*)\(/g;
  for (let m = re.exec(data); m; m = re.exec(data)) {
    if (!registry.findFunction(m[1]!)) return { name: m[1]!, offset: m.index + 2 };
  }
  return null;
}
