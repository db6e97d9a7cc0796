// Prints the SIMD compiler flags for the addon: "-mavx2 -mfma" (and -mf16c, the half-precision
// conversions of the KV cache) when the building machine has them (the addon is built where it is installed, by `npm install`), else nothing. The addon
// checks the CPU again when it loads, so a build copied to an older CPU fails to load (and genrm
// falls back to its JS kernels) instead of crashing. GENRM_NATIVE_SIMD=0 turns the flags off.
'use strict';
const fs = require('node:fs');
let flags = '';
if (process.env.GENRM_NATIVE_SIMD !== '0' && process.arch === 'x64') {
  try {
    const cpu = fs.readFileSync('/proc/cpuinfo', 'utf8');
    if (/\bavx2\b/.test(cpu) && /\bfma\b/.test(cpu)) flags = /\bf16c\b/.test(cpu) ? '-mavx2 -mfma -mf16c' : '-mavx2 -mfma';
  } catch {
    // No /proc/cpuinfo (not Linux): keep the portable baseline.
  }
}
process.stdout.write(flags);
