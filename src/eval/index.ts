// The evaluation's public surface: records in, results out, reports written.
export * from './records.js';
export * from './fromJudge.js';
export * from './results.js';
export * from './evaluate.js';
export * from './metrics/scores.js';
export * from './metrics/bootstrap.js';
export * from './metrics/accuracy.js';
export * from './metrics/majority.js';
export * from './metrics/order.js';
export * from './metrics/calibration.js';
export * from './metrics/reasons.js';
export * from './metrics/claims.js';
export { writeReport, readResults, type ReportFiles } from './report/write.js';
export { renderTerminal } from './report/terminal.js';
export { makePlots, renderSvg, type Plot } from './report/plots.js';
export { PAPER, PAPER_SOURCE } from './report/paper.js';
