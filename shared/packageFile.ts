/**
 * Files shipped with the package (the config schema, the demo config), found from the package
 * root rather than from the importing module: the same module runs from its TypeScript source
 * (`cli/schema.ts`) and bundled into `dist/cli/*.js` (`npm run build`), at different depths.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The nearest directory at or above this module that holds a package.json: the package root. */
const findPackageRoot = (): string => {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    // At the file system's root without a package.json: the module is not inside a package,
    // so keep the source layout's answer (this file is one level below the root).
    if (dirname(dir) === dir) return dirname(start);
  }
};

let packageRoot: string | undefined;

/**
 * The absolute path of a file shipped with the package.
 *
 * @param relativePath the file's path from the package root, `/`-separated.
 * @example
 * packageFile('schema/observability.schema.json') // '/…/tappass-webhooks/schema/observability.schema.json'
 */
export const packageFile = (relativePath: string): string => {
  packageRoot ??= findPackageRoot();
  return join(packageRoot, ...relativePath.split('/'));
};
