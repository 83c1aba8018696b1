// The Go text of an exported package lives in go-templates/ (shipped with the package,
// like bpf-templates/): helpers.go as it is, the rest as templates whose `{{name}}`
// placeholders export-go fills. A placeholder alone on its line takes the value's
// lines (none: the line goes); inside a line it takes the value's text.
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../util/packageRoot';
import { StudioError } from '../util/errors';

const cache = new Map<string, string>();

/** The text of go-templates/<name>. */
export function goTemplate(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    const file = path.join(packageRoot(), 'go-templates', name);
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw new StudioError(`export-go template missing: ${file}`, {
        hint: 'reinstall Ringbuf Studio; in a checkout the folder is go-templates/ at the repository root',
        code: 'ENOTEMPLATES',
        cause: err,
      });
    }
    cache.set(name, text);
  }
  return text;
}

/** go-templates/<name> with its placeholders filled, without the file's final newline (for pasting into another). */
export function renderGoTemplate(name: string, values: Readonly<Record<string, string>>): string {
  const valueOf = (key: string): string => {
    const v = values[key];
    if (v === undefined) throw new Error(`go-templates/${name}: no value for {{${key}}}`);
    return v;
  };
  const out: string[] = [];
  for (const line of goTemplate(name).replace(/\n$/, '').split('\n')) {
    const alone = /^\{\{(\w+)\}\}$/.exec(line);
    if (alone) {
      const v = valueOf(alone[1]!);
      if (v !== '') out.push(v);
    } else {
      out.push(line.replace(/\{\{(\w+)\}\}/g, (_, key: string) => valueOf(key)));
    }
  }
  return out.join('\n');
}
