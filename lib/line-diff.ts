// A line-level diff of two texts, for pattern versions and for a task's outputs under review.
import { diffLines } from 'diff';

export interface DiffLine {
  kind: 'add' | 'del' | 'same';
  text: string;
}

/** A line-level diff: every line of both texts, marked added, removed or unchanged. */
export function lineDiff(from: string, to: string): { lines: DiffLine[]; added: number; removed: number } {
  const lines: DiffLine[] = [];
  let added = 0;
  let removed = 0;
  for (const part of diffLines(from, to)) {
    const kind = part.added ? 'add' : part.removed ? 'del' : 'same';
    const texts = part.value.replace(/\n$/, '').split('\n');
    if (kind === 'add') added += texts.length;
    if (kind === 'del') removed += texts.length;
    for (const text of texts) lines.push({ kind, text });
  }
  return { lines, added, removed };
}
