/**
 * Build step (`npm run build`, run by `npm install` too): writes the R4 schema's validators as
 * generated code next to base-schema.js, so the server starts without compiling the schema.
 */
import fs from 'node:fs';
import path from 'node:path';
import { GENERATED_MODULE, standaloneValidators } from '../src/validation/base-schema';

const target = path.resolve(__dirname, '../src/validation', `${GENERATED_MODULE}.js`);
const started = Date.now();
fs.writeFileSync(target, standaloneValidators());
console.log(`wrote ${path.relative(process.cwd(), target)} (${Math.round(fs.statSync(target).size / 1024)} KB) in ${Date.now() - started} ms`);
