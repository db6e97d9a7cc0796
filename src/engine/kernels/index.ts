// Which Kernels implementation the engine uses. The native-addon work replaces the selection
// logic here (native when the addon loads, else the JS reference with a one-line warning).
import type { Kernels } from './types.js';
import { jsKernels } from './reference.js';

let active: Kernels = jsKernels;

/** The active kernels. */
export function kernels(): Kernels {
  return active;
}

/** Replaces the active kernels (tests use this to compare implementations). */
export function setKernels(k: Kernels): void {
  active = k;
}

export type { Kernels } from './types.js';
