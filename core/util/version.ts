// Ringbuf Studio's version, from package.json (bundled in by esbuild): the one place it is read.
import pkg from '../../package.json';

export const STUDIO_VERSION: string = pkg.version;
