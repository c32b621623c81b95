/** `{{name}}` templates. An unknown name is an error, never an empty string. */
import { OciasmError } from '../errors.js';

export type TemplateVars = Readonly<Record<string, string>>;

export function expandTemplate(text: string, vars: TemplateVars, where: string): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) {
      const known = Object.keys(vars).sort().join(', ');
      throw new OciasmError('TEMPLATE', `${where}: unknown template "{{${name}}}" (known: ${known})`);
    }
    return value;
  });
}
