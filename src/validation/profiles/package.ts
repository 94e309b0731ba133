import fs from 'node:fs';
import zlib from 'node:zlib';

/**
 * The JSON files of a FHIR package (`package.tgz`: a gzipped tar with everything under
 * `package/`), read in memory: nothing is written to disk, so entry names cannot escape anywhere.
 * Sizes are bounded, since a package is input from outside.
 */
const MAX_UNPACKED = 512 * 1024 * 1024;

export function readPackageJson(file: string): { name: string; text: string }[] {
  const tar = zlib.gunzipSync(fs.readFileSync(file), { maxOutputLength: MAX_UNPACKED });
  const out: { name: string; text: string }[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + 512 <= tar.length) {
    const header = tar.subarray(offset, offset + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number): string => header.subarray(start, start + length).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    if (!Number.isFinite(size) || size < 0 || offset + 512 + size > tar.length) throw new Error(`${file} is not a well-formed tar archive`);
    const type = field(156, 1);
    const prefix = field(345, 155);
    const body = tar.subarray(offset + 512, offset + 512 + size);
    if (type === 'L') {
      longName = body.toString('utf8').replace(/\0.*$/s, ''); // GNU long name for the next entry
    } else {
      const name = longName ?? (prefix ? `${prefix}/${field(0, 100)}` : field(0, 100));
      longName = undefined;
      if ((type === '0' || type === '') && name.endsWith('.json')) out.push({ name, text: body.toString('utf8') });
    }
    offset += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}
