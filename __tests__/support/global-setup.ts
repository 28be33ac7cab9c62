/**
 * Synthesizes cdktf.out once, before any test file runs, when it is missing or older than the
 * sources: the local-runtime tests read it, and parallel workers must not synthesize it at once.
 */
import * as path from "path";
import { ensureSynthesized } from "../../core/model/freshness";

export default async function globalSetup(): Promise<void> {
  process.env.CHECKPOINT_DISABLE = "1";
  const projectRoot = path.resolve(__dirname, "..", "..");
  await ensureSynthesized({ projectRoot, outDir: path.join(projectRoot, "cdktf.out") });
}
