import { App } from "cdktf";
import { ConfigValidationError } from "./config/config";
import { BundleError } from "./constructs/bundle";
import { loadConfig } from "./config/load";
import { buildStacks } from "./stacks/app";

let app: App;
try {
  // Validated once, here at the edge, before the App exists (it creates the output folder).
  const config = loadConfig();
  app = new App();
  buildStacks(app, config);
} catch (err) {
  if (err instanceof ConfigValidationError || err instanceof BundleError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}
app.synth();
