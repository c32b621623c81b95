/**
 * `{{name}}` templates (`{{ name }}` too). Rules:
 * - an unknown name is an error, never an empty string;
 * - nothing that looks like a placeholder is kept silently: a `{{` that is not
 *   a template and a Python-style `{name}` / `{name[key]}` / `{name.attr}` (as
 *   corpusops build lists write them) are errors that show the ociasm spelling.
 *   Shell's `${VAR}` is not a placeholder. File contents (`paths[].content`)
 *   are data: there only `{{name}}` is expanded (`strict: false`).
 */
import { OciasmError } from '../errors.js';

export type TemplateVars = Readonly<Record<string, string>>;

const TEMPLATE = /\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g;
const PYTHON = /(?<![{$])\{([A-Za-z_][A-Za-z0-9_]*)((?:\[[^\][{}]*\]|\.[A-Za-z_][A-Za-z0-9_]*)*)\}(?!\})/;

function known(vars: TemplateVars): string {
  return Object.keys(vars).sort().join(', ');
}

/** What is wrong with a placeholder in `text` that is not an ociasm template, if anything. */
export function placeholderProblem(text: string): string | undefined {
  const rest = text.replace(TEMPLATE, '');
  const py = PYTHON.exec(rest);
  if (py) {
    const [all, name, sub] = py;
    const key = /^\[['"]?([A-Za-z0-9_]+)['"]?\]$/.exec(sub ?? '')?.[1] ?? (sub ? '' : name);
    const hint = key ? `{{args.${key}}}` : '{{args.NAME}}';
    return `"${all}" is a Python-style placeholder, which ociasm does not fill; write a template such as ${hint} (an arg), {{name}}, {{tag}} or {{platformTag}} (docs/buildfile.md#templates)`;
  }
  const open = rest.indexOf('{{');
  if (open >= 0) return `"${rest.slice(open, open + 24)}" is not a template: {{NAME}} takes letters, digits, _ and . (docs/buildfile.md#templates)`;
  return undefined;
}

/** Throws when `text` holds a placeholder that is not an ociasm template. */
export function checkPlaceholders(text: string, where: string): void {
  const problem = placeholderProblem(text);
  if (problem !== undefined) throw new OciasmError('TEMPLATE', `${where}: ${problem}`);
}

export function expandTemplate(text: string, vars: TemplateVars, where: string, opts: { strict?: boolean } = {}): string {
  if (opts.strict !== false) checkPlaceholders(text, where);
  return text.replace(TEMPLATE, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new OciasmError('TEMPLATE', `${where}: unknown template "{{${name}}}" (known: ${known(vars)})`);
    return value;
  });
}
