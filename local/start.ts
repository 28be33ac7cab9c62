/** Synthesize when needed, read the model, start the runtime: shared by `make local`, `make demo` and the tests. */
import * as path from "path";
import { isUserFacing } from "../config/user-facing-error";
import { ensureSynthesized } from "../core/model/freshness";
import { loadAccountsModel } from "../core/model/load-model";
import { PROJECT_ROOT } from "../core/paths";
import { startLocalRuntime, type LocalRuntime, type LocalRuntimeOptions } from "./server/runtime";

export { PROJECT_ROOT };

export interface BootOptions extends Partial<Omit<LocalRuntimeOptions, "model">> {
  /** The synthesized stacks; default <project>/cdktf.out. */
  readonly outDir?: string;
  /** Skip the staleness check and synthesis (the caller prepared outDir itself, e.g. a test variant). */
  readonly skipSynth?: boolean;
  readonly log?: (message: string) => void;
}

export async function bootLocalRuntime(options: BootOptions = {}): Promise<LocalRuntime> {
  const outDir = path.resolve(options.outDir ?? path.join(PROJECT_ROOT, "cdktf.out"));
  if (!options.skipSynth) {
    const result = await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir, ...(options.log ? { log: options.log } : {}) });
    if (result.synthesized) options.log?.(`synthesized ${outDir} (${result.reason ?? "it was missing"})`);
  }
  const model = loadAccountsModel(outDir);
  const { outDir: _ignored, skipSynth: _skip, log: _log, ...runtimeOptions } = options;
  return startLocalRuntime({ cacheDir: path.join(PROJECT_ROOT, "build", "local-runtime"), ...runtimeOptions, model });
}

/** The errors a user can act on: print the message alone, without a stack trace (one root, config/user-facing-error.ts). */
export const isUserFacingError = isUserFacing;
