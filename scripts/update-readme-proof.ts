/**
 * Rewrites the README's access matrix, diagram and deploy-time checks from the stacks in cdktf.out, and the
 * three-caller proof from examples/three-callers.json, synthesized into a temporary directory (make readme-proof).
 */
import * as fs from "fs";
import * as path from "path";
import { PROJECT_ROOT } from "../local/start";
import { analyzeAccess } from "../verify/analyze";
import { checkDeployTime } from "../verify/deploy-time/check";
import { accessModelFromStacks, deployOrderOf } from "../verify/from-stacks";
import {
  EXAMPLE_BLOCK,
  EXAMPLE_CONFIG,
  README_BLOCKS,
  renderBlocks,
  renderExampleBlock,
  synthesizeExample,
  writeBlock,
} from "../verify/readme-blocks";

async function main(): Promise<void> {
  const readmePath = path.join(PROJECT_ROOT, "README.md");
  const outDir = path.join(PROJECT_ROOT, "cdktf.out");
  const blocks = renderBlocks(await analyzeAccess(accessModelFromStacks(outDir)), await checkDeployTime(outDir, deployOrderOf(outDir)));
  const exampleDir = await synthesizeExample(PROJECT_ROOT);
  let example: string;
  try {
    example = renderExampleBlock(await analyzeAccess(accessModelFromStacks(exampleDir)));
  } finally {
    fs.rmSync(exampleDir, { recursive: true, force: true });
  }
  let readme = fs.readFileSync(readmePath, "utf8");
  for (const name of README_BLOCKS) readme = writeBlock(readme, name, blocks[name]);
  readme = writeBlock(readme, EXAMPLE_BLOCK, example);
  fs.writeFileSync(readmePath, readme);
  console.log(`README.md: ${README_BLOCKS.join(", ")} rewritten from cdktf.out; ${EXAMPLE_BLOCK} from ${EXAMPLE_CONFIG}`);
}

main().catch((err: unknown) => {
  console.error(`readme-proof: ${(err as Error).message}`);
  process.exitCode = 1;
});
