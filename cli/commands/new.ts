// `ringbuf-studio new <template> <dir>` — scaffolds a program from a template.
import path from 'node:path';
import { CliUsageError, type CliCommand, type CliIo } from '../command';
import { oneOf, parseOptions } from '../args';
import { listTemplates, scaffoldTemplate, type ScaffoldOptions } from '../../core/templates';
import { ARCHES, displayPath } from './build';

const usage = `usage: ringbuf-studio new <template> <dir> [options]

Creates <dir> (or uses it if it exists) with the template's program, its shared
event header, a README and .vscode/ settings for C IntelliSense. Never overwrites
a file. \`ringbuf-studio templates\` lists the templates.

options:
  --vmlinux DIR    folder with the target's vmlinux.h, for IntelliSense (default: the local kernel's)
  --arch ARCH      __TARGET_ARCH_ARCH for IntelliSense (default: this host's)`;

export const newCommand: CliCommand = {
  name: 'new',
  summary: 'create a BPF program from a template',
  usage,
  async run(argv: string[], io: CliIo): Promise<number> {
    const parsed = parseOptions(argv, { vmlinux: { type: 'string' }, arch: { type: 'string' } });
    const [name, dir, ...extra] = parsed.positionals;
    if (!name || !dir) {
      const names = listTemplates().map((t) => t.name).join(', ');
      throw new CliUsageError(`expected <template> <dir> (templates: ${names})`);
    }
    if (extra.length) throw new CliUsageError(`unexpected argument ${extra.join(' ')}`);
    const opts: ScaffoldOptions = {};
    if (parsed.values.vmlinux) opts.vmlinuxHeaderDir = path.resolve(io.cwd, parsed.values.vmlinux);
    if (parsed.values.arch) opts.arch = oneOf('--arch', parsed.values.arch, ARCHES);

    const dest = path.resolve(io.cwd, dir);
    const result = await scaffoldTemplate(name, dest, opts);
    const template = listTemplates().find((t) => t.name === name);
    const show = (p: string): string => displayPath(p, io.cwd);
    io.stdout(`created ${name} in ${show(dest) || '.'}:\n`);
    for (const f of result.files) io.stdout(`  ${show(f)}\n`);
    for (const n of result.notes) io.stdout(`note: ${n}\n`);
    const main = show(result.main);
    io.stdout(
      [
        '',
        'next:',
        `  ringbuf-studio build ${main}`,
        `  sudo ringbuf-studio run ${main} --count 5${template ? `     # then: ${template.trigger}` : ''}`,
        `  code ${show(dest) || '.'}                 # Live Events panel, lint while typing`,
        '',
      ].join('\n'),
    );
    return 0;
  },
};
