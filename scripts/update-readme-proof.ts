/** Rewrites the README's access matrix, diagram and deploy-time checks from the stacks in cdktf.out (make readme-proof). */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../local/start";
import { analyzeAccess } from "../verify/analyze";
import { checkDeployTime } from "../verify/deploy-time/check";
import { accessModelFromStacks, deployOrderOf } from "../verify/from-stacks";
import { README_BLOCKS, renderBlocks, writeBlock } from "../verify/readme-blocks";

async function main(): Promise<void> {
  const readmePath = path.join(PROJECT_ROOT, "README.md");
  const outDir = path.join(PROJECT_ROOT, "cdktf.out");
  const blocks = renderBlocks(await analyzeAccess(accessModelFromStacks(outDir)), await checkDeployTime(outDir, deployOrderOf(outDir)));
  let readme = fs.readFileSync(readmePath, "utf8");
  for (const name of README_BLOCKS) readme = writeBlock(readme, name, blocks[name]);
  fs.writeFileSync(readmePath, readme);
  console.log(`README.md: ${README_BLOCKS.join(", ")} rewritten from cdktf.out`);
}

main().catch((err: unknown) => {
  console.error(`readme-proof: ${(err as Error).message}`);
  process.exitCode = 1;
});
