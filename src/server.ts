#!/usr/bin/env node
// The program (DESIGN §2.3): `node dist/server.js [--config mesh.yaml] …`, the CLI in cli.ts. Only this much
// runs before the rest of ModelMesh loads, because a SIGHUP (a `systemctl reload`, logrotate) in those first
// 100-200 ms would end the process: Node's default for SIGHUP, and an exit systemd counts as clean, so it does
// not restart the service. One that comes while loading is kept and honoured as a reload once the server is up.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

let hupWhileLoading = false;
const onEarlyHup = (): void => {
  hupWhileLoading = true;
};

/** True when this module is the program (node dist/server.js, or the npm bin symlink to it). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.on('SIGHUP', onEarlyHup);
  const { main } = await import('./cli.ts');
  await main(process.argv.slice(2), {
    takeEarlyHup: () => {
      process.off('SIGHUP', onEarlyHup);
      return hupWhileLoading;
    },
  });
}
