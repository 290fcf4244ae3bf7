/**
 * Markdown → texts to embed: one per paragraph (or per heading section), with the markdown
 * syntax stripped minimally — heading markers, emphasis, links' and images' URLs, inline code
 * ticks, code fences, list and quote markers, HTML tags and comments, front matter — and the
 * heading the text falls under kept beside it. Not a full CommonMark parser: enough that the
 * embedded text is the prose a reader sees.
 */

export interface MarkdownText {
  text: string;
  /** the nearest heading above the text (stripped), when there is one */
  heading?: string;
}

const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const THEMATIC = /^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$/;
const LINK_DEFINITION = /^ {0,3}\[[^\]]+\]:\s*\S+/;
const TABLE_RULE = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;

/**
 * @example
 * splitMarkdown('# Bread\n\nKnead the **dough** for [ten minutes](https://x.y/knead).');
 * // [{ text: 'Knead the dough for ten minutes.', heading: 'Bread' }]
 */
export function splitMarkdown(source: string, mode: 'paragraph' | 'section' = 'paragraph'): MarkdownText[] {
  const text = stripFrontMatter(source.replace(/\r\n?/g, '\n')).replace(/<!--[\s\S]*?-->/g, '');
  const out: MarkdownText[] = [];
  let heading: string | undefined;
  let paragraph: string[] = [];
  let section: string[] = [];
  let fence: { marker: string; lines: string[] } | undefined;

  const emit = (t: string) => {
    const trimmed = t.trim();
    if (trimmed) out.push(heading !== undefined ? { text: trimmed, heading } : { text: trimmed });
  };
  const block = (t: string) => (mode === 'section' ? t.trim() && section.push(t.trim()) : emit(t));
  const endParagraph = () => {
    if (paragraph.length) block(paragraph.join('\n'));
    paragraph = [];
  };
  const endSection = () => {
    endParagraph();
    if (mode === 'section') emit(section.join('\n\n'));
    section = [];
  };

  for (const line of text.split('\n')) {
    if (fence) {
      const close = FENCE.exec(line);
      if (close && close[1]![0] === fence.marker[0] && close[1]!.length >= fence.marker.length && line.trim() === close[1]) {
        block(fence.lines.join('\n'));
        fence = undefined;
      } else {
        fence.lines.push(line);
      }
      continue;
    }
    const open = FENCE.exec(line);
    if (open) {
      endParagraph();
      fence = { marker: open[1]!, lines: [] };
      continue;
    }
    if (line.trim() === '') {
      endParagraph();
      continue;
    }
    const atx = ATX.exec(line);
    if (atx) {
      endSection();
      heading = stripInline(atx[2] ?? '').trim() || undefined;
      continue;
    }
    // "Title\n=====" (or "-----") under a one-line paragraph: a heading
    if (SETEXT.test(line) && paragraph.length === 1) {
      const title = paragraph[0]!;
      paragraph = [];
      endSection();
      heading = title.trim() || undefined;
      continue;
    }
    if (THEMATIC.test(line)) {
      endParagraph();
      continue;
    }
    if (LINK_DEFINITION.test(line) || TABLE_RULE.test(line)) continue;
    const content = stripInline(stripBlockMarkers(line));
    if (content.trim()) paragraph.push(content.trim());
  }
  if (fence) block(fence.lines.join('\n'));
  endSection();
  return out;
}

/** A leading YAML (---) or TOML (+++) front matter block is not text. */
function stripFrontMatter(s: string): string {
  const m = /^(---|\+\+\+)\n[\s\S]*?\n\1[ \t]*(\n|$)/.exec(s);
  return m ? s.slice(m[0].length) : s;
}

/** Quote markers, list bullets and numbers, task boxes; table edges. */
function stripBlockMarkers(line: string): string {
  let s = line;
  for (let q = /^ {0,3}>[ \t]?/; q.test(s); ) s = s.replace(q, '');
  s = s.replace(/^\s*(?:[-*+]|\d{1,9}[.)])[ \t]+(?:\[[ xX]\][ \t]+)?/, '');
  if (/^\s*\|.*\|\s*$/.test(s)) s = s.trim().slice(1, -1).split('|').map((c) => c.trim()).join(' | ');
  return s;
}

/**
 * Inline syntax → its text: backslash escapes become their character and code spans lose their
 * ticks (both left alone from then on), images become their alt text, links their text, emphasis
 * and strike its content, HTML tags nothing.
 *
 * @example
 * stripInline('See **[the docs](https://x.y/docs)** and `a*b*c`.'); // 'See the docs and a*b*c.'
 */
export function stripInline(s: string): string {
  const kept: string[] = [];
  const keep = (text: string) => `\u0000${kept.push(text) - 1}\u0000`;
  // left to right: an escaped backtick opens no code span, and a code span keeps its backslashes
  let t = s.replace(/\\([\\`*_{}[\]()#+\-.!>|~<])|(`+)(.+?)\2/g, (_, escaped: string | undefined, _ticks: string, code: string) =>
    keep(escaped ?? code.trim()),
  );
  t = t
    .replace(/!\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
    .replace(/\[([^\]]*)\]\((?:[^()]|\([^()]*\))*\)/g, '$1')
    .replace(/!?\[([^\]]+)\]\[[^\]]*\]/g, '$1')
    .replace(/<((?:https?|mailto):[^>\s]+)>/g, '$1')
    .replace(/<\/?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?\/?>/g, '')
    .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(?<![\w*])\*(?=[^\s*])([^*]*?[^\s*])\*(?![\w*])/g, '$1')
    .replace(/(?<![\w_])_(?=[^\s_])([^_]*?[^\s_])_(?![\w_])/g, '$1')
    .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1');
  return t.replace(/\u0000(\d+)\u0000/g, (_, i: string) => kept[Number(i)]!);
}
