// Names as bpf2go writes them, so the main.go we generate refers to the types,
// fields and programs bpf2go will emit. Written from the behaviour of bpf2go 0.9.1
// (internal.Identifier and output.go); later versions keep the same scheme.

/**
 * C name → exported Go identifier, bpf2go style: a letter at the start or after a
 * dropped `_` is upper-cased; `_` after a lower-case letter or a digit (or at the
 * start) is dropped; anything that is not a letter, digit or `_` is dropped.
 * `handle_exec` → `HandleExec`, `__data_loc_filename` → `DataLocFilename`.
 */
export function goIdentifier(cName: string): string {
  let out = '';
  let prev: string | undefined; // undefined: at the start or after a dropped `_`
  for (const r of cName) {
    if (/\p{L}/u.test(r)) {
      const c = prev === undefined ? r.toUpperCase() : r;
      out += c;
      prev = c;
    } else if (r === '_') {
      if (prev === undefined || /\p{Nd}/u.test(prev) || (/\p{L}/u.test(prev) && prev === prev.toLowerCase() && prev !== prev.toUpperCase())) {
        prev = undefined;
      } else {
        out += r;
        prev = r;
      }
    } else if (/\p{Nd}/u.test(r)) {
      out += r;
      prev = r;
    }
  }
  return out;
}

/**
 * The bpf2go "ident" (stem of every generated name) for a program file:
 * `perf-to-ringbuf.bpf.c` → `perfToRingbuf`. Lower-case first letter so the
 * generated types stay package-private, as in bpf2go's own examples.
 */
export function bpf2goIdent(fileBaseName: string): string {
  const stem = fileBaseName.replace(/\.bpf\.c$|\.c$/, '');
  const words = stem.split(/[^A-Za-z0-9]+/).filter(Boolean);
  let ident = words.map((w, i) => (i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1))).join('');
  if (!ident || !/^[A-Za-z]/.test(ident)) ident = `bpf${ident.charAt(0).toUpperCase()}${ident.slice(1)}`;
  return ident;
}

/** The C type name bpf2go's `-type` flag takes: "struct event" → "event", "event_t" → "event_t". */
export function bpf2goTypeArg(typeName: string): string {
  return typeName.trim().replace(/^(struct|union|enum)\s+/, '');
}

/** The Go type bpf2go generates for `-type <name>` with stem `ident`: ident + Identifier(name). */
export function bpf2goTypeName(ident: string, typeName: string): string {
  return ident + goIdentifier(bpf2goTypeArg(typeName));
}

/** Go's GOARCH for this Node process (bpf2go's -target takes a GOARCH). */
export function hostGoArch(): string {
  switch (process.arch) {
    case 'x64':
      return 'amd64';
    case 'ia32':
      return '386';
    case 'ppc64':
      return 'ppc64le';
    default:
      return process.arch; // arm64, s390x, riscv64, mips64el … share the name
  }
}

/** bpf2go 0.9.1 emits `<ident>_<bpfel|bpfeb>_<linux arch>.go`; big-endian GOARCHes. */
export function isBigEndianGoArch(goArch: string): boolean {
  return ['s390x', 'ppc64', 'mips', 'mips64', 'armbe', 'arm64be'].includes(goArch);
}
