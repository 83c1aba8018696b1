// `ringbuf-studio templates [--format json]` — the BPF program templates `new` can scaffold.
import type { CliCommand, CliIo } from '../command';
import { oneOf, parseOptions } from '../args';
import { listTemplates } from '../../core/templates';

const usage = `usage: ringbuf-studio templates [--format json|text]

Lists the program templates (use one with: ringbuf-studio new <template> <dir>).

options:
  --format json|text    json prints [{name,title,description,minKernel,main,trigger}]`;

export const templatesCommand: CliCommand = {
  name: 'templates',
  summary: 'list the BPF program templates',
  usage,
  run(argv: string[], io: CliIo): Promise<number> {
    const { values } = parseOptions(argv, { format: { type: 'string' } }, false);
    const format = oneOf('--format', values.format ?? 'text', ['json', 'text'] as const);
    const templates = listTemplates();
    if (format === 'json') {
      const out = templates.map(({ name, title, description, minKernel, main, trigger }) => ({ name, title, description, minKernel, main, trigger }));
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      return Promise.resolve(0);
    }
    const rows = [['NAME', 'MIN KERNEL', 'TITLE'], ...templates.map((t) => [t.name, t.minKernel, t.title])];
    const w0 = Math.max(...rows.map((r) => r[0]?.length ?? 0));
    const w1 = Math.max(...rows.map((r) => r[1]?.length ?? 0));
    for (const [a = '', b = '', c = ''] of rows) io.stdout(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`);
    return Promise.resolve(0);
  },
};
