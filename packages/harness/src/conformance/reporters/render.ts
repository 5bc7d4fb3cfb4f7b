import { extname } from 'node:path';

import type { RunReport } from '../result.js';
import { consoleReport } from './console.js';
import { junitReport } from './junit.js';

export type Reporter = 'console' | 'json' | 'junit';

/** `report.json` → `report-udp_127.0.0.1_8111.json` when several devices each get a file. */
export function outputFileFor(file: string, device: string, several: boolean): string {
  if (!several) return file;
  const extension = extname(file);
  const slug = device.replace(/[^A-Za-z0-9.-]+/g, '_').replace(/^_+|_+$/g, '');
  return `${file.slice(0, file.length - extension.length)}-${slug}${extension}`;
}

/** The reports in one reporter's format: console text, JSON (one object or a list), JUnit XML. */
export function renderReports(reporter: Reporter, reports: readonly RunReport[]): string {
  if (reporter === 'junit') return junitReport(reports);
  if (reporter === 'json') {
    return `${JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2)}\n`;
  }
  return reports.map((report) => consoleReport(report)).join('\n');
}
