// Live tests: `<name>.rbtest.yaml` → triggers on a target → expectations on the decoded
// events → reporters (text, JUnit, JSON, TAP). See docs/live-tests.md.
export { readLiveTestFile, parseLiveTestFile, parseCount, parseDuration, TRIGGER_FIELD } from './parse';
export type { ParseResult, ParsedLiveTest, ParsedLiveTestFile } from './parse';
export { runLiveTests, runLiveTestFile, DRAIN_TIMEOUT_MS } from './runner';
export type { LiveTestOptions, LiveTestProgress } from './runner';
export { findLiveTestFiles, LIVE_TEST_SUFFIX } from './discover';
export { formatReport, formatSummary, formatTestLine, suiteHeader, REPORTERS } from './reporters/index';
export type { ReporterName, ReportOptions } from './reporters/index';
export { RBTEST_SCHEMA } from './schema';
export * from './model';
