// `ringbuf-studio new <template> <dir>` — scaffolds a program from a template.
import path from 'node:path';
import { defineCommand } from '../command';
import { displayPath } from '../diagnostics';
import { ExitStatus } from '../exitStatus';
import { option } from '../options';
import { listTemplates, scaffoldTemplate, type ScaffoldOptions } from '../../core/templates';
import { archOption } from './build';

const description = `Creates <dir> (or uses it if it exists) with the template's program, its shared
event header, a README and .vscode/ settings for C IntelliSense. Never overwrites
a file. \`ringbuf-studio templates\` lists the templates.`;

const options = {
  vmlinux: option.value('--vmlinux', 'DIR', "folder with the target's vmlinux.h, for IntelliSense (default: the local kernel's)"),
  arch: archOption("__TARGET_ARCH_ARCH for IntelliSense (default: this host's)"),
};

export const newCommand = defineCommand({
  name: 'new',
  summary: 'create a BPF program from a template',
  description,
  positionals: {
    usage: '<template> <dir>',
    min: 2,
    max: 2,
    missing: () => `expected <template> <dir> (templates: ${listTemplates()
      .map((t) => t.name)
      .join(', ')})`,
  },
  options,
  exitStatus: '0 when the files were created, 1 on failure (nothing is overwritten)',
  async run({ options: o, positionals: [name = '', dir = ''] }, io) {
    const opts: ScaffoldOptions = {};
    if (o.vmlinux) opts.vmlinuxHeaderDir = path.resolve(io.cwd, o.vmlinux);
    if (o.arch) opts.arch = o.arch;

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
    return ExitStatus.ok;
  },
});
