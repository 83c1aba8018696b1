// BPF program templates (bpf-templates/<name>/): listing and scaffolding into a folder.
// Each template folder holds template.json, <name>.bpf.c, usually <name>.h (the event
// struct shared with user space) and a README.md. Scaffolding also writes .vscode/
// settings so C IntelliSense finds vmlinux.h and the libbpf headers.
import fs from 'node:fs';
import path from 'node:path';
import { findClang } from './compile/clang';
import { hostBpfArch, type BpfArch } from './compile/paths';
import { packageRoot } from './util/packageRoot';
import { ensureVmlinuxHeader, libbpfIncludeDir } from './compile/vmlinux';
import { messageOf, StudioError } from './util/errors';

export interface TemplateInfo {
  name: string;
  title: string;
  description: string;
  /** Oldest kernel the template runs on, e.g. "5.8" (ring buffers) or "5.19" (dynptr). */
  minKernel: string;
  /** The program file to open and build, e.g. "execve.bpf.c". */
  main: string;
  /** How to make it fire, e.g. "run any command". */
  trigger: string;
  /** Absolute folder of the template. */
  dir: string;
  /** File names in the folder (template.json excluded). */
  files: string[];
}

export interface ScaffoldOptions {
  /** vmlinux.h folder for IntelliSense (the target's); default: the local kernel's, generated and cached. */
  vmlinuxHeaderDir?: string;
  /** __TARGET_ARCH_… for IntelliSense; default: the host's. */
  arch?: BpfArch;
  clangPath?: string;
}

export interface ScaffoldResult {
  /** Absolute paths of the files written. */
  files: string[];
  /** Absolute path of the program file (open this). */
  main: string;
  /** .vscode files that already existed and were left untouched. */
  skipped: string[];
  /** Things the user may want to know (e.g. no kernel BTF here, so no vmlinux.h path for IntelliSense). */
  notes: string[];
}

export function templatesDir(): string {
  const dir = path.join(packageRoot(), 'bpf-templates');
  if (!fs.existsSync(dir)) {
    throw new StudioError(`templates folder not found (${dir})`, {
      hint: 'reinstall Ringbuf Studio; in a checkout the folder is bpf-templates/ at the repository root',
      code: 'ENOTEMPLATES',
    });
  }
  return dir;
}

export function listTemplates(): TemplateInfo[] {
  const root = templatesDir();
  const out: TemplateInfo[] = [];
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const dir = path.join(root, entry.name);
    const manifest = path.join(dir, 'template.json');
    if (!fs.existsSync(manifest)) continue;
    out.push(readManifest(dir, manifest));
  }
  return out.sort((a, b) => templateOrder(a.name) - templateOrder(b.name) || a.name.localeCompare(b.name));
}

/** The headline template first, then the rest alphabetically. */
function templateOrder(name: string): number {
  return name === 'execve' ? 0 : 1;
}

function readManifest(dir: string, manifest: string): TemplateInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(manifest, 'utf8'));
  } catch (err) {
    throw new StudioError(`invalid template manifest ${manifest}: ${(err as Error).message}`, { code: 'ETEMPLATE', cause: err });
  }
  const m = raw as Record<string, unknown>;
  const str = (k: string): string => {
    const v = m[k];
    if (typeof v !== 'string' || !v) throw new StudioError(`template manifest ${manifest} lacks "${k}"`, { code: 'ETEMPLATE' });
    return v;
  };
  const files = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && e.name !== 'template.json')
    .map((e) => e.name)
    .sort();
  const info: TemplateInfo = {
    name: str('name'),
    title: str('title'),
    description: str('description'),
    minKernel: str('minKernel'),
    main: str('main'),
    trigger: str('trigger'),
    dir,
    files,
  };
  if (!files.includes(info.main)) {
    throw new StudioError(`template ${info.name}: main file ${info.main} is missing from ${dir}`, { code: 'ETEMPLATE' });
  }
  return info;
}

export async function scaffoldTemplate(name: string, destDir: string, opts: ScaffoldOptions = {}): Promise<ScaffoldResult> {
  const templates = listTemplates();
  const template = templates.find((t) => t.name === name);
  if (!template) {
    throw new StudioError(`unknown template '${name}'`, {
      hint: `choose one of: ${templates.map((t) => t.name).join(', ')} (ringbuf-studio templates lists them)`,
      code: 'ENOTEMPLATE',
    });
  }
  const dest = path.resolve(destDir);
  if (fs.existsSync(dest) && !fs.statSync(dest).isDirectory()) {
    throw new StudioError(`${dest} exists and is not a folder`, { hint: 'choose a new or empty folder', code: 'ENOTDIR' });
  }

  // Refuse before writing anything, so a conflict loses nothing.
  const conflicts = template.files.map((f) => path.join(dest, f)).filter((p) => fs.existsSync(p));
  if (conflicts.length) {
    throw new StudioError(`not overwriting existing files: ${conflicts.map((c) => path.relative(process.cwd(), c) || c).join(', ')}`, {
      hint: 'choose a new or empty folder, or move those files away first',
      code: 'EEXIST',
    });
  }

  const notes: string[] = [];
  const editor = await intelliSenseSettings(opts, notes);

  await fs.promises.mkdir(dest, { recursive: true });
  const files: string[] = [];
  for (const f of template.files) {
    const to = path.join(dest, f);
    // 'wx': fail instead of overwriting if the file appeared since the check.
    await fs.promises.writeFile(to, await fs.promises.readFile(path.join(template.dir, f)), { flag: 'wx' });
    files.push(to);
  }

  const skipped: string[] = [];
  const vscodeDir = path.join(dest, '.vscode');
  await fs.promises.mkdir(vscodeDir, { recursive: true });
  for (const [file, content] of [
    ['settings.json', editor.settings],
    ['c_cpp_properties.json', editor.cppProperties],
  ] as const) {
    const to = path.join(vscodeDir, file);
    try {
      await fs.promises.writeFile(to, `${JSON.stringify(content, null, 2)}\n`, { flag: 'wx' });
      files.push(to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      skipped.push(to);
      notes.push(`${path.join('.vscode', file)} already exists and was left as it is`);
    }
  }
  return { files, main: path.join(dest, template.main), skipped, notes };
}

interface EditorSettings {
  settings: Record<string, unknown>;
  cppProperties: Record<string, unknown>;
}

async function intelliSenseSettings(opts: ScaffoldOptions, notes: string[]): Promise<EditorSettings> {
  const arch = opts.arch ?? hostBpfArch();
  const includePath = ['${workspaceFolder}/**'];
  let vmlinuxDir = opts.vmlinuxHeaderDir ? path.resolve(opts.vmlinuxHeaderDir) : undefined;
  if (!vmlinuxDir) {
    try {
      vmlinuxDir = (await ensureVmlinuxHeader()).dir;
    } catch (err) {
      notes.push(`no vmlinux.h for IntelliSense yet (${(err as Error).message}); run "Ringbuf Studio: Generate vmlinux.h"`);
    }
  }
  if (vmlinuxDir) includePath.push(vmlinuxDir);
  try {
    includePath.push(libbpfIncludeDir());
  } catch (err) {
    notes.push(`libbpf headers not found for IntelliSense (${(err as Error).message})`);
  }
  const clang = await findClang(opts.clangPath ? { clangPath: opts.clangPath } : {}).catch((err: unknown) => {
    notes.push(`no clang for IntelliSense's compilerPath (${messageOf(err)})`);
    return undefined;
  });
  const defines = [`__TARGET_ARCH_${arch}`, '__bpf__', '__BPF__'];
  return {
    settings: {
      'files.associations': { '*.bpf.c': 'c', '*.h': 'c' },
      'C_Cpp.default.includePath': includePath,
      'C_Cpp.default.defines': defines,
    },
    cppProperties: {
      configurations: [
        {
          name: 'BPF (Ringbuf Studio)',
          includePath,
          defines,
          ...(clang ? { compilerPath: clang.path } : {}),
          compilerArgs: ['-target', 'bpf'],
          cStandard: 'gnu11',
          intelliSenseMode: 'linux-clang-x64',
        },
      ],
      version: 4,
    },
  };
}
