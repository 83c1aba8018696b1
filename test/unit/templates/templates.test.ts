// Every template: scaffold into a temp folder → build with real clang → no errors,
// lint clean → .vscode settings present; the event struct reaches BTF; with BPF
// available, the objects load. Scaffolding never overwrites.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileBpf, type BuildResult } from '../../../core/compile/build';
import { findOnPath } from '../../../core/util/which';
import { readBpfObject } from '../../../core/elf/bpfObject';
import { lintFile } from '../../../core/lint/index';
import { listTemplates, scaffoldTemplate } from '../../../core/templates';
import { StudioError } from '../../../core/util/errors';
import { available, ensureBpfMounts } from '../../support/prereq';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'rbs-templates-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const templates = listTemplates();
const built = new Map<string, BuildResult>();

describe('listTemplates', () => {
  it('lists the seven templates with complete manifests, execve first', () => {
    expect(templates.map((t) => t.name).sort()).toEqual(
      ['drop-counter', 'dynptr', 'execve', 'execve-output', 'perf-to-ringbuf', 'process-exit', 'uprobe-readline'].sort(),
    );
    expect(templates[0]?.name).toBe('execve');
    for (const t of templates) {
      expect(t.files).toContain(t.main);
      expect(t.files).toContain('README.md');
      expect(t.minKernel).toMatch(/^\d+\.\d+$/);
      expect(t.title.length).toBeGreaterThan(5);
      expect(t.trigger.length).toBeGreaterThan(5);
    }
    expect(templates.find((t) => t.name === 'dynptr')?.minKernel).toBe('5.19');
  });
});

describe.each(templates.map((t) => [t.name, t] as const))('template %s', (name, t) => {
  const dest = path.join(root, name);

  it('scaffolds, builds every program without errors and lints clean', async () => {
    const result = await scaffoldTemplate(name, dest);
    expect(result.main).toBe(path.join(dest, t.main));
    for (const f of t.files) expect(fs.existsSync(path.join(dest, f))).toBe(true);

    const settings = JSON.parse(fs.readFileSync(path.join(dest, '.vscode', 'settings.json'), 'utf8')) as Record<string, unknown>;
    expect(settings['files.associations']).toMatchObject({ '*.bpf.c': 'c' });
    const props = JSON.parse(fs.readFileSync(path.join(dest, '.vscode', 'c_cpp_properties.json'), 'utf8')) as {
      configurations: Array<{ includePath: string[]; defines: string[] }>;
    };
    const cfg = props.configurations[0];
    expect(cfg?.includePath.some((d) => fs.existsSync(path.join(d, 'vmlinux.h')))).toBe(true);
    expect(cfg?.includePath.some((d) => fs.existsSync(path.join(d, 'bpf', 'bpf_helpers.h')))).toBe(true);
    expect(cfg?.defines.some((d) => /^__TARGET_ARCH_\w+$/.test(d))).toBe(true);

    for (const program of t.files.filter((f) => f.endsWith('.bpf.c'))) {
      const file = path.join(dest, program);
      const r = await compileBpf({ file });
      expect(r.diagnostics, `${program}: ${r.stderr}`).toEqual([]);
      expect(r.ok).toBe(true);
      built.set(program, r);
      const lint = lintFile({ file, text: fs.readFileSync(file, 'utf8'), object: r.object ?? new Uint8Array() });
      // "clean": nothing the author has to fix; information hints (e.g. RB009 in execve-output, on purpose) are fine.
      expect(lint.filter((d) => d.severity === 'error' || d.severity === 'warning')).toEqual([]);
    }
  });

  it("its ring buffer event struct is in the object's BTF (decodable without annotations)", () => {
    const r = built.get(t.main);
    expect(r?.object).toBeDefined();
    const obj = readBpfObject(r?.object ?? new Uint8Array());
    expect(obj.maps.find((m) => m.name === 'events')?.type).toBe(27 /* BPF_MAP_TYPE_RINGBUF */);
    expect(obj.btf?.findByName('event', 'struct')).toMatchObject({ kind: 'struct' });
    // every template makes loss visible with a global counter user space can read
    expect(obj.globals.some((g) => /drop|lost|miss|fail/.test(g.name))).toBe(true);
  });

  it('refuses to overwrite, leaving existing files as they were', async () => {
    const mainFile = path.join(dest, t.main);
    fs.writeFileSync(mainFile, '/* my edits */\n');
    const err = await scaffoldTemplate(name, dest).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StudioError);
    expect((err as StudioError).code).toBe('EEXIST');
    expect((err as StudioError).message).toContain(t.main);
    expect(fs.readFileSync(mainFile, 'utf8')).toBe('/* my edits */\n');
  });
});

describe('scaffoldTemplate', () => {
  it('an unknown template names the ones that exist', async () => {
    await expect(scaffoldTemplate('nope', path.join(root, 'nope'))).rejects.toMatchObject({
      code: 'ENOTEMPLATE',
      hint: expect.stringContaining('execve'),
    });
    expect(fs.existsSync(path.join(root, 'nope'))).toBe(false);
  });

  it('keeps existing .vscode files and says so', async () => {
    const dest = path.join(root, 'keep-vscode');
    fs.mkdirSync(path.join(dest, '.vscode'), { recursive: true });
    fs.writeFileSync(path.join(dest, '.vscode', 'settings.json'), '{ "mine": true }\n');
    const r = await scaffoldTemplate('execve', dest);
    expect(r.skipped).toEqual([path.join(dest, '.vscode', 'settings.json')]);
    expect(fs.readFileSync(path.join(dest, '.vscode', 'settings.json'), 'utf8')).toBe('{ "mine": true }\n');
    expect(r.files).toContain(path.join(dest, '.vscode', 'c_cpp_properties.json'));
  });

  it('says when IntelliSense gets no compilerPath because the clang setting is broken', async () => {
    const dest = path.join(root, 'no-clang');
    const r = await scaffoldTemplate('execve', dest, { clangPath: '/nonexistent/bin/clang' });
    expect(r.notes.join('\n')).toMatch(/no clang for IntelliSense's compilerPath \(clang not found at '\/nonexistent\/bin\/clang'/);
    const props = JSON.parse(fs.readFileSync(path.join(dest, '.vscode', 'c_cpp_properties.json'), 'utf8')) as { configurations: Array<Record<string, unknown>> };
    expect(props.configurations[0]).not.toHaveProperty('compilerPath');
  });
});

const bpftool = findOnPath('bpftool');
describe.skipIf(!available('bpf') || !bpftool)('templates load into the kernel', () => {
  it.each(templates.map((t) => [t.name, t] as const))('%s loads with libbpf (bpftool prog loadall)', (name, t) => {
    ensureBpfMounts();
    for (const program of t.files.filter((f) => f.endsWith('.bpf.c'))) {
      const r = built.get(program);
      expect(r?.objectPath, `${name}/${program} was not built`).toBeDefined();
      const pin = `/sys/fs/bpf/rbs-template-test-${process.pid}-${name}`;
      try {
        const load = spawnSync(bpftool ?? 'bpftool', ['prog', 'loadall', r?.objectPath ?? '', pin], { encoding: 'utf8' });
        expect(load.status, `${program}:\n${load.stderr.slice(-3000)}`).toBe(0);
      } finally {
        execFileSync('rm', ['-rf', pin]);
      }
    }
  });
});
