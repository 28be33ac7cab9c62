/** The Node.js that CDK Terrain needs: cdktn-cli 0.24.0 declares engines.node >=22.19.0. */

export const REQUIRED_NODE = "22.19.0";

function parts(version: string): [number, number, number] {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version.trim());
  if (!m) throw new Error(`not a Node.js version: ${version}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** a < b, a = b, a > b as -1, 0, 1. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parts(a), parts(b)];
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] < y[i] ? -1 : 1;
  return 0;
}

/** One sentence naming the version found and the one needed, or undefined when this Node.js will do. */
export function nodeVersionProblem(
  what: string,
  version: string = process.version,
  execPath: string = process.execPath,
): string | undefined {
  if (compareVersions(version, REQUIRED_NODE) >= 0) return undefined;
  return `${what} needs Node.js >= ${REQUIRED_NODE} (cdktn-cli 0.24 requires it), but the node on PATH (${execPath}) is ${version}: run it through make, which provides Node.js 22.`;
}

/** Exits with that sentence when the running Node.js is too old. */
export function requireNode(what: string): void {
  const problem = nodeVersionProblem(what);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
