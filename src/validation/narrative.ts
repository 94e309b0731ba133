/**
 * The XHTML of a Narrative (narrative.html#xhtml, invariant txt-1): well-formed XHTML in the
 * XHTML namespace, rooted in a `div`, using only the basic HTML formatting elements and
 * attributes the spec allows — no scripts, forms, frames or objects, no event attributes (`on…`),
 * no `javascript:` links. An image from outside the resource is allowed but warned about
 * (the narrative should be self-contained). One linear scan, no DOM.
 */
export interface NarrativeProblem { severity: 'error' | 'warning'; message: string }

const ELEMENTS = new Set([
  'a', 'abbr', 'acronym', 'address', 'area', 'b', 'bdo', 'big', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup',
  'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'img', 'ins', 'kbd', 'li', 'map', 'ol',
  'p', 'pre', 'q', 's', 'samp', 'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'tt', 'u', 'ul', 'var',
]);
const COMMON_ATTRIBUTES = new Set(['title', 'style', 'class', 'id', 'lang', 'xml:lang', 'dir', 'accesskey', 'tabindex', 'xmlns']);
const ELEMENT_ATTRIBUTES: Record<string, string[]> = {
  a: ['href', 'name', 'rel', 'rev', 'shape', 'coords', 'hreflang', 'type', 'charset'],
  img: ['src', 'alt', 'height', 'width', 'longdesc', 'usemap', 'ismap', 'border', 'align', 'hspace', 'vspace'],
  table: ['summary', 'width', 'border', 'frame', 'rules', 'cellspacing', 'cellpadding', 'align', 'bgcolor'],
  td: ['abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'align', 'valign', 'char', 'charoff', 'nowrap', 'width', 'height', 'bgcolor'],
  th: ['abbr', 'axis', 'headers', 'scope', 'rowspan', 'colspan', 'align', 'valign', 'char', 'charoff', 'nowrap', 'width', 'height', 'bgcolor'],
  tr: ['align', 'valign', 'char', 'charoff', 'bgcolor'],
  thead: ['align', 'valign', 'char', 'charoff'], tbody: ['align', 'valign', 'char', 'charoff'], tfoot: ['align', 'valign', 'char', 'charoff'],
  col: ['span', 'width', 'align', 'valign', 'char', 'charoff'], colgroup: ['span', 'width', 'align', 'valign', 'char', 'charoff'],
  ol: ['type', 'start', 'compact'], ul: ['type', 'compact'], li: ['type', 'value'],
  q: ['cite'], blockquote: ['cite'], del: ['cite', 'datetime'], ins: ['cite', 'datetime'],
  map: ['name'], area: ['shape', 'coords', 'href', 'nohref', 'alt', 'target'],
  p: ['align'], div: ['align'], h1: ['align'], h2: ['align'], h3: ['align'], h4: ['align'], h5: ['align'], h6: ['align'], hr: ['align', 'noshade', 'size', 'width'],
  pre: ['width'], br: ['clear'], caption: ['align'],
};
const XHTML_NS = 'http://www.w3.org/1999/xhtml';
const TAG = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[^\s=/>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'))?)*)\s*(\/?)>/y;
const ATTRIBUTE = /([^\s=/>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'))?/g;
const MAX_PROBLEMS = 10;

function attributeProblems(name: string, attrs: string, out: NarrativeProblem[]): void {
  for (const m of attrs.matchAll(ATTRIBUTE)) {
    const attr = m[1].toLowerCase();
    const value = (m[2] ?? m[3] ?? '').trim();
    if (attr.startsWith('on')) out.push({ severity: 'error', message: `the event attribute '${m[1]}' on <${name}> is not allowed (no scripts in a narrative)` });
    else if (!COMMON_ATTRIBUTES.has(attr) && !attr.startsWith('xmlns:') && !(ELEMENT_ATTRIBUTES[name] ?? []).includes(attr)) {
      out.push({ severity: 'error', message: `the attribute '${m[1]}' is not allowed on <${name}>` });
    } else if ((attr === 'href' || attr === 'src') && /^\s*(javascript|vbscript):/i.test(value)) {
      out.push({ severity: 'error', message: `<${name} ${attr}> may not run script` });
    } else if (name === 'img' && attr === 'src' && !value.startsWith('#') && !value.startsWith('data:')) {
      out.push({ severity: 'warning', message: `<img src="${value.slice(0, 60)}"> points outside the resource; a narrative should carry its images (a contained Binary or a data: URI)` });
    }
  }
}

export function narrativeProblems(div: string): NarrativeProblem[] {
  const out: NarrativeProblem[] = [];
  const open: string[] = [];
  let i = 0;
  let sawRoot = false;
  while (i < div.length && out.length < MAX_PROBLEMS) {
    const lt = div.indexOf('<', i);
    if (lt < 0) break;
    if (div.startsWith('<!--', lt)) {
      const end = div.indexOf('-->', lt + 4);
      if (end < 0) { out.push({ severity: 'error', message: 'an XML comment is not closed' }); break; }
      i = end + 3;
      continue;
    }
    if (div.startsWith('<?', lt) || div.startsWith('<!', lt)) {
      out.push({ severity: 'error', message: 'processing instructions, DOCTYPE and CDATA are not allowed in a narrative' });
      break;
    }
    TAG.lastIndex = lt;
    const m = TAG.exec(div);
    if (!m) { out.push({ severity: 'error', message: `malformed XHTML near '${div.slice(lt, lt + 30)}'` }); break; }
    i = TAG.lastIndex;
    const [, closing, rawName, attrs, selfClosing] = m;
    const name = rawName.toLowerCase();
    if (closing) {
      if (open.pop() !== rawName) { out.push({ severity: 'error', message: `</${rawName}> does not close the open element` }); break; }
      continue;
    }
    if (!sawRoot) {
      sawRoot = true;
      if (rawName !== 'div' || lt !== div.search(/\S/)) out.push({ severity: 'error', message: 'the narrative must be one <div> element' });
      const ns = /\bxmlns\s*=\s*("([^"]*)"|'([^']*)')/.exec(attrs);
      if ((ns?.[2] ?? ns?.[3]) !== XHTML_NS) out.push({ severity: 'error', message: `the root <div> must be in the XHTML namespace (xmlns="${XHTML_NS}")` });
    } else if (open.length === 0) {
      out.push({ severity: 'error', message: 'the narrative must be one <div> element' });
    }
    if (!ELEMENTS.has(name)) out.push({ severity: 'error', message: `<${rawName}> is not an element a narrative may use` });
    attributeProblems(name, attrs, out);
    if (!selfClosing) open.push(rawName);
  }
  if (out.length === 0 && !sawRoot) out.push({ severity: 'error', message: 'the narrative must be one <div> element' });
  if (out.length === 0 && open.length > 0) out.push({ severity: 'error', message: `<${open[open.length - 1]}> is never closed` });
  return out;
}
