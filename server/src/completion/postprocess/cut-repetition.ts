/**
 * Cuts the loops small models fall into (lines compared without surrounding whitespace): a
 * non-blank line repeated three or more times in a row
 * keeps its first occurrence; a block of 2 to 6 lines repeated back to back keeps one copy; a
 * short pattern (1 to 12 chars) repeated 8+ times at the end of a line keeps one copy.
 */
import type { Filter } from './context.js';

function cutRepeatedLines(lines: string[]): string[] {
  for (let i = 0; i + 2 < lines.length; i++) {
    const l = lines[i]!.trim();
    if (l !== '' && lines[i + 1]!.trim() === l && lines[i + 2]!.trim() === l) return lines.slice(0, i + 1);
  }
  return lines;
}

function cutRepeatedBlocks(lines: string[]): string[] {
  for (let size = 2; size <= 6; size++) {
    for (let i = 0; i + 2 * size <= lines.length; i++) {
      let same = true;
      let content = false;
      for (let k = 0; k < size && same; k++) {
        same = lines[i + k]!.trim() === lines[i + size + k]!.trim();
        if (lines[i + k]!.trim() !== '') content = true;
      }
      if (same && content) return lines.slice(0, i + size);
    }
  }
  return lines;
}

function cutRepeatedPattern(line: string): string {
  for (let len = 1; len <= 12; len++) {
    const times = len === 1 ? 12 : 8;
    if (line.length < len * times) continue;
    const unit = line.slice(line.length - len);
    if (unit.trim() === '') continue;
    let n = 1;
    while (n * len + len <= line.length && line.slice(line.length - (n + 1) * len, line.length - n * len) === unit) n++;
    if (n >= times) return line.slice(0, line.length - (n - 1) * len);
  }
  return line;
}

export const cutRepetition: Filter = (completion) => {
  let lines = completion.split('\n');
  lines = cutRepeatedLines(lines);
  lines = cutRepeatedBlocks(lines);
  lines = lines.map(cutRepeatedPattern);
  return lines.join('\n');
};
