/**
 * `make local`: synthesize, build, start the runtime in the foreground, write the AWS profiles.
 * Ctrl-C stops the endpoint and every function process it started.
 */
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { writeProfiles } from "./profiles";
import { DEFAULT_ACCOUNT_CONCURRENCY } from "./exec/function-pool";
import { formatDecision } from "./server/audit";
import { describeFaultPlan, FAULTS, parseFaultRule } from "./server/faults";
import { bootLocalRuntime, isUserFacingError, PROJECT_ROOT } from "./start";

const USAGE = `usage: npx tsx local/cli.ts [--port N] [--dir cdktf.out] [--profiles-dir .local-aws] [--quiet] [--no-decisions] [--account-concurrency N] [--fault NAME[:N]]...
  --port N           port on 127.0.0.1 (default 0: a free port)
  --dir DIR          the synthesized stacks (default cdktf.out; synthesized when missing or stale)
  --profiles-dir D   where config and credentials are written (default .local-aws)
  --quiet            do not print function logs (the [function] lines)
  --no-decisions     do not print the authorization decisions: one line per request the runtime decides,
                     e.g. ALLOW sts:AssumeRole <principal> -> <role> or DENY lambda:InvokeFunction <principal> -> <function> (<reason>)
  --account-concurrency N
                     each account's concurrent-executions quota in the region (default ${DEFAULT_ACCOUNT_CONCURRENCY}, AWS's
                     default; a new account may have 10). Functions without reserved concurrency share
                     what the reservations leave; these must leave 100 unreserved, as AWS requires
  --fault NAME[:N]   inject a fault (off by default); repeatable; with :N only the first N times;
                     where several fit one request, the first given that has uses left applies:
${Object.entries(FAULTS)
  .map(([name, what]) => `                       ${name.padEnd(18)}${what}`)
  .join("\n")}`;

function parseCli(argv: string[]) {
  try {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: "string" },
        dir: { type: "string" },
        "profiles-dir": { type: "string" },
        quiet: { type: "boolean" },
        "no-decisions": { type: "boolean" },
        fault: { type: "string", multiple: true },
        "account-concurrency": { type: "string" },
        help: { type: "boolean" },
      },
      strict: true,
    });
    if (values.help) {
      console.log(USAGE);
      process.exit(0);
    }
    const port = values.port === undefined ? 0 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be an integer from 0 to 65535, got '${values.port}'`);
    const faults = (values.fault ?? []).map(parseFaultRule);
    const accountConcurrency = parseAccountConcurrency(values["account-concurrency"]);
    return {
      port,
      dir: values.dir,
      // Absolute, so the paths printed at start work from any directory.
      profilesDir: path.resolve(values["profiles-dir"] ?? path.join(PROJECT_ROOT, ".local-aws")),
      quiet: values.quiet ?? false,
      decisions: !(values["no-decisions"] ?? false),
      faults,
      accountConcurrency,
    };
  } catch (err) {
    console.error(`${(err as Error).message}\n${USAGE}`);
    process.exit(2);
  }
}

function parseAccountConcurrency(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new Error(
      `--account-concurrency must be a positive integer (AWS's default quota per account and region is ${DEFAULT_ACCOUNT_CONCURRENCY}), got '${value}'`,
    );
  }
  return n;
}

async function main(): Promise<void> {
  const args = parseCli(process.argv.slice(2));
  const runtime = await bootLocalRuntime({
    port: args.port,
    ...(args.dir !== undefined ? { outDir: args.dir } : {}),
    log: (m) => console.log(m),
    ...(args.faults.length > 0 ? { faults: args.faults } : {}),
    ...(args.accountConcurrency !== undefined ? { accountConcurrency: args.accountConcurrency } : {}),
    ...(args.quiet ? {} : { onFunctionLog: (fn: string, line: string) => console.log(`[${fn}] ${line}`) }),
  });
  if (args.decisions) runtime.audit.subscribe((event) => console.log(formatDecision(event)));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local runtime and its function processes`);
    void runtime.stop().then(() => process.exit(0));
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGHUP", () => stop("SIGHUP"));
  // Killed parent (e.g. `kill <make pid>`): we are re-parented; stop rather than run on unseen.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) stop("parent process exited");
  }, 500).unref();

  const files = writeProfiles(args.profilesDir, runtime.profiles(), runtime.endpoint, runtime.region);
  // The function profiles are role sessions that expire (max_session_duration): renew them at half-life.
  const shortestSession = Math.min(...runtime.profiles().flatMap((p) => (p.expiration ? [p.expiration.getTime() - Date.now()] : [])));
  if (Number.isFinite(shortestSession)) {
    setInterval(
      () => {
        writeProfiles(args.profilesDir, runtime.renewSessions(), runtime.endpoint, runtime.region);
        console.log(`renewed the function sessions in ${args.profilesDir}`);
      },
      Math.max(60_000, shortestSession / 2),
    );
  }
  console.log(`local runtime listening on ${runtime.endpoint} (region ${runtime.region})`);
  if (args.faults.length > 0) console.log(`injecting faults: ${describeFaultPlan(args.faults)}`);
  const concurrency = Object.entries(runtime.concurrencyStats());
  console.log(
    `account concurrency ${concurrency[0]?.[1].accountConcurrency ?? DEFAULT_ACCOUNT_CONCURRENCY} per account; unreserved (shared by the functions without reserved concurrency): ` +
      concurrency.map(([account, c]) => `${account} ${c.unreserved}`).join(", "),
  );
  // Absolute paths: the export line below works from any directory, not only the repository root.
  const configFile = path.resolve(files.configFile);
  const credentialsFile = path.resolve(files.credentialsFile);
  console.log(`wrote ${configFile}`);
  console.log(`wrote ${credentialsFile}`);
  console.log(`profiles:`);
  const width = Math.max(16, ...runtime.profiles().map((p) => p.profile.length + 1));
  for (const p of runtime.profiles()) console.log(`  ${p.profile.padEnd(width)} ${p.principalArn}`);
  console.log(`\nuse them from any directory (in each shell that runs the AWS CLI or an SDK):`);
  console.log(`  export AWS_CONFIG_FILE=${shellQuote(configFile)} AWS_SHARED_CREDENTIALS_FILE=${shellQuote(credentialsFile)}`);
  console.log(`\ntry:`);
  // The caller stack is `caller` with one caller, `caller-<name>` for each of several: the first one's profiles.
  const callerFn = [...runtime.model.functions.values()].find((f) => f.source.stack === "caller" || f.source.stack.startsWith("caller-"));
  const stack = callerFn?.source.stack ?? "caller";
  console.log(`  aws --profile ${stack}-function sts get-caller-identity`);
  const answer = shellQuote(path.join(os.tmpdir(), "answer.json"));
  // CLI v2 needs --cli-binary-format raw-in-base64-out to send the JSON as given; v1 rejects the flag.
  console.log(
    `  aws --profile ${stack}-admin lambda invoke --function-name ${callerFn?.name ?? "<caller>"} --payload '{"payload":{"operation":"quote","items":[{"sku":"A-1","quantity":2,"unitPriceCents":1999}]}}' ${answer} && cat ${answer}   # CLI v2: add --cli-binary-format raw-in-base64-out`,
  );
  console.log(
    args.decisions
      ? `\neach authorization decision is printed as it is made (ALLOW/DENY <action> <principal> -> <resource>); --no-decisions hides them${args.quiet ? "" : ", --quiet hides the function logs"}`
      : `\nauthorization decisions are not printed (--no-decisions)`,
  );
  console.log(`\nCtrl-C stops it.`);
}

/** A path as one shell word: as is when it is plain, else single-quoted. */
function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

main().catch((err: unknown) => {
  console.error(isUserFacingError(err) ? err.message : err);
  process.exit(1);
});
