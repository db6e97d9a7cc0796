// The judge's public surface.
export * from './verdicts.js';
export * from './templates.js';
export * from './templateFile.js';
export * from './resolveTemplate.js';
export * from './config.js';
export * from './context.js';
export * from './scoring.js';
export * from './pairwise.js';
export * from './pointwise.js';
export * from './bradleyTerry.js';
export * from './ranking.js';
export * from './rewards.js';
