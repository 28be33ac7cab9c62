import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { type CrossAccountConfig } from "./config/config";
import { CONFIG_RECORD_FILE, loadConfig } from "./config/load";
import { isUserFacing } from "./config/user-facing-error";
import { buildBootstrapOnly, buildStacks } from "./stacks/app";

let app: App;
let config: CrossAccountConfig;
try {
  // Validated once, here at the edge, before the App exists (it creates the output folder).
  config = loadConfig();
  app = new App();
  if (config.bootstrapOnly === true) buildBootstrapOnly(app, config);
  else buildStacks(app, config);
} catch (err) {
  // A configuration or bundling problem: its message names the fix; anything else is a bug, with its stack.
  if (isUserFacing(err)) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
app.synth();
// The local runtime re-synthesizes when the configuration differs from the one recorded here.
fs.writeFileSync(path.join(app.outdir, CONFIG_RECORD_FILE), JSON.stringify(config, null, 2) + "\n");
