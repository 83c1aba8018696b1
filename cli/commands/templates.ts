// `ringbuf-studio templates [--format json]` — the BPF program templates `new` can scaffold.
import { defineCommand } from '../command';
import { ExitStatus } from '../exitStatus';
import { option } from '../options';
import { listTemplates } from '../../core/templates';

export const templatesCommand = defineCommand({
  name: 'templates',
  summary: 'list the BPF program templates',
  description: 'Lists the program templates (use one with: ringbuf-studio new <template> <dir>).',
  options: {
    format: option.choice('--format', ['json', 'text'] as const, 'text', 'json prints [{name,title,description,minKernel,main,trigger}]'),
  },
  exitStatus: '0',
  run({ options: o }, io) {
    const templates = listTemplates();
    if (o.format === 'json') {
      const out = templates.map(({ name, title, description, minKernel, main, trigger }) => ({ name, title, description, minKernel, main, trigger }));
      io.stdout(`${JSON.stringify(out, null, 2)}\n`);
      return Promise.resolve(ExitStatus.ok);
    }
    const rows = [['NAME', 'MIN KERNEL', 'TITLE'], ...templates.map((t) => [t.name, t.minKernel, t.title])];
    const w0 = Math.max(...rows.map((r) => r[0]?.length ?? 0));
    const w1 = Math.max(...rows.map((r) => r[1]?.length ?? 0));
    for (const [a = '', b = '', c = ''] of rows) io.stdout(`${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}\n`);
    return Promise.resolve(ExitStatus.ok);
  },
});
