// Reporters for `ringbuf-studio test --reporter …`.
import type { LiveTestReport } from '../model';
import type { ReportOptions } from './common';
import { formatJsonReport } from './json';
import { formatJunitReport } from './junit';
import { formatTapReport } from './tap';
import { formatTextReport } from './text';

export const REPORTERS = ['text', 'junit', 'json', 'tap'] as const;
export type ReporterName = (typeof REPORTERS)[number];

export function formatReport(report: LiveTestReport, reporter: ReporterName, opts: ReportOptions = {}): string {
  switch (reporter) {
    case 'text':
      return formatTextReport(report, opts);
    case 'junit':
      return formatJunitReport(report, opts);
    case 'json':
      return formatJsonReport(report, opts);
    case 'tap':
      return formatTapReport(report, opts);
  }
}

export { formatSummary, formatTestLine, suiteHeader } from './text';
export type { ReportOptions } from './common';
