/** One benchmark's result: a titled table plus the notes that explain it. */
export interface BenchSection {
  title: string;
  /** What was measured and how, in a sentence or two. */
  description: string;
  columns: string[];
  rows: Array<Array<string | number>>;
  notes?: string[];
}

export function markdownTable(columns: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>) => `| ${cells.map(String).join(' | ')} |`;
  return [line(columns), line(columns.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderSection(section: BenchSection): string {
  const notes = (section.notes ?? []).map((n) => `- ${n}`).join('\n');
  return `### ${section.title}\n\n${section.description}\n\n${markdownTable(section.columns, section.rows)}\n${notes ? `\n${notes}\n` : ''}`;
}

/** Percentile of a sorted-on-demand sample, nearest-rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? Number.NaN;
}

export const ratio = (peer: number, ours: number): string =>
  ours === 0 ? (peer === 0 ? '1.0x' : '∞') : `${(peer / ours).toFixed(1)}x`;
