// `genrm serve`: the OpenAI-compatible HTTP server over a genrm checkpoint (src/serve/).
import type { Command } from 'commander';
import { startServer } from '../serve/server.js';
import { CliError } from './errors.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('serve a checkpoint over OpenAI-compatible HTTP (/v1/models, /v1/completions, /v1/chat/completions); the model runs in a worker thread')
    .requiredOption('--model <dir>', 'checkpoint folder (kind lm)')
    .option('--host <host>', 'interface to bind (default 127.0.0.1: this machine only)', '127.0.0.1')
    .option('--port <n>', 'port; 0 = an ephemeral one (the bound URL is printed)', '8000')
    .option('--name <id>', "model id clients send (default: the folder's name)")
    .option('--faults <spec>', 'fault injection for client tests, e.g. "429:0.2,500:0.1,slow:0.1:2000,seed:7" (default: env GENRM_FAULTS; off when unset)')
    .option('--json', 'print the bound address as one JSON line')
    .action(async (o: { model: string; host: string; port: string; name?: string; faults?: string; json?: boolean }) => {
      if (!/^\d+$/.test(o.port)) throw new CliError(`--port: expected an integer in [0, 65535], got "${o.port}"`);
      let s;
      try {
        s = await startServer({ model: o.model, host: o.host, port: Number(o.port), ...(o.name ? { name: o.name } : {}), ...(o.faults ? { faults: o.faults } : {}) });
      } catch (e) {
        throw new CliError((e as Error).message);
      }
      if (o.json) console.log(JSON.stringify({ url: s.url, host: s.host, port: s.port, model: s.worker.info.id }));
      else console.log(`genrm serve: ${s.worker.info.id} on ${s.url}${s.faults ? ` (fault injection on: ${JSON.stringify(s.faults.spec.rules)})` : ''}`);
      const stop = (sig: string): void => {
        console.error(`genrm serve: ${sig}, finishing requests in flight and stopping`);
        void s.close().then(() => process.exit(0));
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
