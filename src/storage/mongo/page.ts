import type { FindCursor } from 'mongodb';
import type { VersionDoc } from './documents';

/**
 * One page read from a cursor opened with `limit: count + 1`, document by document, so a page
 * whose stored JSON reaches `maxBytes` stops reading there (at least one document is kept).
 * `more`: a next page exists (the extra document came, or the budget cut the page short).
 */
export async function readPage(cursor: FindCursor<VersionDoc>, count: number, maxBytes: number | undefined): Promise<{ docs: VersionDoc[]; more: boolean }> {
  const docs: VersionDoc[] = [];
  let bytes = 0;
  let cut = false;
  try {
    for await (const doc of cursor) {
      const size = doc.json?.length ?? 0;
      if (maxBytes !== undefined && docs.length > 0 && docs.length < count && bytes + size > maxBytes) { cut = true; break; }
      bytes += size;
      docs.push(doc);
    }
  } finally {
    await cursor.close();
  }
  return { docs: docs.length > count ? docs.slice(0, count) : docs, more: cut || docs.length > count };
}
