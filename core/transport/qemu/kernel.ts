// A catalogue kernel on disk: downloaded once (archive.ts), then only what QEMU boots and
// the guest loads is kept — the kernel image (x86_64: the ELF vmlinux unpacked from the
// bzImage, booted through PVH, which is seconds faster under TCG; aarch64: the Image) and
// the modules the transport needs (virtio-pci, virtio-console and their dependencies,
// decompressed, in load order; none when the kernel has them built in).
import fs from 'node:fs';
import path from 'node:path';
import { StudioError } from '../../util/errors';
import { downloadPackage, dropPackageCache, resolveKernelPackage, updateIndex, type Log, type PackageRef } from './archive';
import type { CatalogueKernel } from './catalogue';
import { compressedPayloads, compressionOfName, decompress, extractDeb } from './deb';
import { withLock } from './lock';
import { vmPaths, vmRoot } from './paths';

/** Kernel modules the guest agent's transport needs (a virtio-serial port on PCI). */
const TRANSPORT_MODULES = ['virtio_pci', 'virtio_console'];

export interface KernelFiles {
  name: string;
  package: string;
  version: string;
  sha256: string;
  /** `uname -r` in the guest. */
  release: string;
  /** What QEMU's -kernel gets. */
  image: string;
  /** Plain .ko files to insmod, dependencies first. */
  modules: string[];
}

function pointerFile(name: string): string {
  return path.join(vmPaths.kernels(), `${name}.json`);
}

/** The kernel already on disk for this catalogue name, if any (no network). */
export function cachedKernel(k: CatalogueKernel): KernelFiles | undefined {
  try {
    const files = JSON.parse(fs.readFileSync(pointerFile(k.name), 'utf8')) as KernelFiles;
    return fs.existsSync(files.image) && files.modules.every((m) => fs.existsSync(m)) ? files : undefined;
  } catch {
    return undefined; // not downloaded yet (or a half-written pointer, which the next download replaces)
  }
}

/** The cached kernel, or download and unpack it (one process at a time per kernel). */
export async function ensureKernel(k: CatalogueKernel, opts: { refresh?: boolean; signal?: AbortSignal; log?: Log } = {}): Promise<KernelFiles> {
  const have = cachedKernel(k);
  if (have && !opts.refresh) return have;
  return withLock(vmRoot(), `kernel-${k.name}`, async () => {
    const again = cachedKernel(k);
    if (again && !opts.refresh) return again;
    const src = { suite: k.suite, debArch: k.debArch };
    await updateIndex(src, opts);
    const ref = await resolveKernelPackage(src, k.metaPackage, opts.signal);
    dropPackageCache(src);
    if (again && again.package === ref.name && again.version === ref.version) return again;
    const deb = await downloadPackage(src, ref, vmPaths.debs(), opts);
    const files = await unpackKernel(k, ref, deb, opts.log);
    fs.rmSync(deb, { force: true }); // 50–110 MB; what we need is unpacked
    return files;
  }, { ...(opts.signal ? { signal: opts.signal } : {}), onWait: () => opts.log?.(`waiting for another process downloading ${k.name}`) });
}

async function unpackKernel(k: CatalogueKernel, ref: PackageRef, deb: string, log?: Log): Promise<KernelFiles> {
  const started = Date.now();
  const key = `${ref.name}_${ref.version.replace(/[^\w.+-]/g, '_')}`;
  const dir = path.join(vmPaths.kernels(), key);
  fs.mkdirSync(vmPaths.kernels(), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(vmPaths.kernels(), `.unpack-${key}-`));
  try {
    await extractDeb(deb, tmp, ['./boot/vmlinuz-*', '*/modules.builtin', '*/kernel/drivers/virtio/*', '*/kernel/drivers/char/virtio_console.ko*']);
    const boot = fs.readdirSync(path.join(tmp, 'boot')).find((f) => f.startsWith('vmlinuz-'));
    if (!boot) throw new StudioError(`${path.basename(deb)} has no /boot/vmlinuz-*`, { code: 'EVMKERNEL' });
    const release = boot.slice('vmlinuz-'.length);
    const modDir = ['usr/lib/modules', 'lib/modules'].map((d) => path.join(tmp, d, release)).find((d) => fs.existsSync(d));
    const out = path.join(tmp, 'out');
    fs.mkdirSync(out);
    const modules = modDir ? await transportModules(modDir, out, path.basename(deb)) : [];
    const image = path.join(out, k.arch === 'x86_64' ? 'vmlinux' : 'Image');
    await kernelImage(path.join(tmp, 'boot', boot), image, k.arch);
    const files: KernelFiles = {
      name: k.name,
      package: ref.name,
      version: ref.version,
      sha256: ref.sha256,
      release,
      image: path.join(dir, path.basename(image)),
      modules: modules.map((m) => path.join(dir, path.basename(m))),
    };
    fs.writeFileSync(path.join(out, 'kernel.json'), JSON.stringify(files, null, 2));
    fs.rmSync(dir, { recursive: true, force: true });
    fs.renameSync(out, dir); // atomic: a half-unpacked kernel is never used
    fs.writeFileSync(`${pointerFile(k.name)}.tmp`, JSON.stringify(files, null, 2));
    fs.renameSync(`${pointerFile(k.name)}.tmp`, pointerFile(k.name));
    log?.(`${k.name}: ${ref.name} ${ref.version} unpacked in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return files;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** `depends=` from a module's .modinfo (the package ships no modules.dep: depmod runs at install). */
export function moduleDepends(ko: Buffer): string[] {
  const m = /\0depends=([^\0]*)\0/.exec(ko.toString('latin1'));
  return m?.[1] ? m[1].split(',').filter(Boolean) : [];
}

/** Copies the transport's modules (and their dependencies) into `out` as plain .ko, in load order. */
async function transportModules(modDir: string, out: string, debName: string): Promise<string[]> {
  const builtin = new Set(
    (fs.existsSync(path.join(modDir, 'modules.builtin')) ? fs.readFileSync(path.join(modDir, 'modules.builtin'), 'utf8') : '')
      .split('\n')
      .map((l) => path.basename(l).replace(/\.ko$/, '').replace(/-/g, '_')),
  );
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.ko(\.xz|\.zst|\.gz)?$/.test(e.name)) files.set(e.name.replace(/\.ko(\.xz|\.zst|\.gz)?$/, '').replace(/-/g, '_'), p);
    }
  };
  walk(modDir);
  const order: string[] = [];
  const visit = async (name: string): Promise<void> => {
    const key = name.replace(/-/g, '_');
    if (builtin.has(key) || order.some((o) => path.basename(o) === `${key}.ko`)) return;
    const file = files.get(key);
    if (!file) throw new StudioError(`${debName} has neither a module nor a built-in ${name}, which the VM's port needs`, { code: 'EVMKERNEL' });
    const raw = fs.readFileSync(file);
    const kind = compressionOfName(file);
    // busybox insmod reads plain .ko files only.
    const plain = kind ? await decompress(kind, raw) : raw;
    for (const dep of moduleDepends(plain)) await visit(dep);
    const dest = path.join(out, `${key}.ko`);
    fs.writeFileSync(dest, plain);
    order.push(dest);
  };
  for (const m of TRANSPORT_MODULES) await visit(m);
  return order;
}

/** x86_64: the ELF vmlinux inside the bzImage (PVH boot), or the bzImage when none unpacks. */
async function kernelImage(vmlinuz: string, dest: string, arch: string): Promise<void> {
  const image = fs.readFileSync(vmlinuz);
  if (arch !== 'x86_64') {
    // arm64 Debian kernels are a plain Image (QEMU also unpacks a gzip'd one); an EFI zboot image needs firmware.
    if (image.subarray(0, 2).toString('latin1') === 'MZ' && image.indexOf('zimg', 0, 'latin1') === 4) {
      throw new StudioError(`${path.basename(vmlinuz)} is an EFI zboot image, which QEMU cannot boot without firmware`, { code: 'EVMKERNEL' });
    }
    fs.writeFileSync(dest, image);
    return;
  }
  for (const p of compressedPayloads(image)) {
    try {
      const elf = await decompress(p.kind, image.subarray(p.at));
      if (elf.length > 1 << 20 && elf.readUInt32BE(0) === 0x7f454c46) {
        fs.writeFileSync(dest, elf);
        return;
      }
    } catch {
      // no tool for this compression, or not the payload: try the next one, else boot the bzImage
    }
  }
  fs.writeFileSync(dest, image);
}
