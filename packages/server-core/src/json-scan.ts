/** The JSON punctuation the scan looks at (RFC 8259 §2), as UTF-16 code units. */
const JSON_CHAR = Object.freeze({
  QUOTE: 0x22,
  BACKSLASH: 0x5c,
  COMMA: 0x2c,
  OBJECT_OPEN: 0x7b,
  OBJECT_CLOSE: 0x7d,
  ARRAY_OPEN: 0x5b,
  ARRAY_CLOSE: 0x5d,
} as const);

/** What JSON.parse hides about a text: a repeated top-level member and the nesting depth. */
export interface JsonScan {
  /** The first name twice in the top-level object (JSON.parse keeps the last one). */
  duplicate?: string;
  /** The deepest nesting of objects and arrays seen, the top-level object being 1. */
  depth: number;
}

/**
 * Scans a JSON object text that JSON.parse has already accepted, stopping at the first
 * duplicate top-level member name or once nesting passes `maxDepth`. Member names are
 * compared after unescaping, so `"t\u0079p"` repeats `"typ"`.
 */
export function scanJsonObject(text: string, maxDepth: number): JsonScan {
  const names = new Set<string>();
  let depth = 0;
  let deepest = 0;
  let expectName = false;

  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === JSON_CHAR.QUOTE) {
      const start = i++;
      let escaped = false;
      // The bound on i only matters for text JSON.parse refused; it keeps the scan finite.
      for (let d = text.charCodeAt(i); d !== JSON_CHAR.QUOTE && i < text.length;
        d = text.charCodeAt(++i)) {
        if (d === JSON_CHAR.BACKSLASH) {
          escaped = true;
          i++;
        }
      }
      if (depth === 1 && expectName) {
        const name = escaped ? (JSON.parse(text.slice(start, i + 1)) as string)
          : text.slice(start + 1, i);
        if (names.has(name)) return { duplicate: name, depth: deepest };
        names.add(name);
      }
      expectName = false;
    } else if (c === JSON_CHAR.OBJECT_OPEN || c === JSON_CHAR.ARRAY_OPEN) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > maxDepth) return { depth: deepest };
      expectName = depth === 1;
    } else if (c === JSON_CHAR.OBJECT_CLOSE || c === JSON_CHAR.ARRAY_CLOSE) {
      depth--;
    } else if (c === JSON_CHAR.COMMA && depth === 1) {
      expectName = true;
    }
  }
  return { depth: deepest };
}
