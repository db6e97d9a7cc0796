// `genrm doctor`: what this machine runs genrm with. (The native-kernel issue fills this in.)
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('print the Node version, the active kernels and a short matmul measurement')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const report = { node: process.version };
      if (opts.json) console.log(JSON.stringify(report, null, 2));
      else console.log(`node ${report.node}`);
    });
}
