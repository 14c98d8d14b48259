// Standalone emulator: node conformance/google-emulator/main.ts --port N
//   [--account a@x.com …] [--client id:secret …] [--auto-approve a@x.com]
// Prints its URL; control it over HTTP under /__emulator/<method>.
import { parseArgs } from 'node:util';
import { startGoogleEmulator } from './server.ts';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    account: { type: 'string', multiple: true, default: [] },
    client: { type: 'string', multiple: true, default: [] },
    'auto-approve': { type: 'string' },
  },
});

const g = await startGoogleEmulator({ port: Number(values.port), log: (line) => console.error(line) });
for (const email of values.account) g.addAccount(email);
for (const pair of values.client) {
  const colon = pair.indexOf(':');
  if (colon < 1) throw new Error(`--client wants id:secret, got ${pair}`);
  g.registerClient(pair.slice(0, colon), pair.slice(colon + 1));
}
if (values['auto-approve']) g.consent({ autoApprove: values['auto-approve'] });
console.log(g.url);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    void g.close().then(() => process.exit(0));
  });
}
