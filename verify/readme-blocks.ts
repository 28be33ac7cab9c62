/**
 * The README shows the access matrix, the diagram and the deploy-time checks of the current stacks between marker
 * comments; `make readme-proof` rewrites them and a test fails when they are stale.
 */
import type { AccessAnalysis } from "./analyze";
import type { DeployTimeResult } from "./deploy-time/check";
import { deployTimeTable } from "./deploy-time/report";
import { matrixText, mermaidReport } from "./report";

export const README_BLOCKS = ["access-matrix", "access-diagram", "deploy-time-checks"] as const;
export type ReadmeBlock = (typeof README_BLOCKS)[number];

export function renderBlocks(analysis: AccessAnalysis, deployTime: DeployTimeResult): Record<ReadmeBlock, string> {
  return {
    "access-matrix": "```text\n" + matrixText(analysis) + "\n```",
    "access-diagram": "```mermaid\n" + mermaidReport(analysis) + "\n```",
    "deploy-time-checks": deployTimeTable(deployTime),
  };
}

const markers = (name: ReadmeBlock) => ({ start: `<!-- ${name}:start (make readme-proof writes this) -->`, end: `<!-- ${name}:end -->` });

export function readBlock(readme: string, name: ReadmeBlock): string | undefined {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1 || to < from) return undefined;
  return readme.slice(from + start.length, to).trim();
}

export function writeBlock(readme: string, name: ReadmeBlock, content: string): string {
  const { start, end } = markers(name);
  const from = readme.indexOf(start);
  const to = readme.indexOf(end);
  if (from === -1 || to === -1 || to < from)
    throw new Error(`README.md has no '${start}' ... '${end}' markers; add them where the ${name} belongs`);
  return `${readme.slice(0, from + start.length)}\n${content}\n${readme.slice(to)}`;
}
