/** Shared by the local-runtime end-to-end tests: variants of the synthesized stacks and SDK clients. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { LambdaClient, InvokeCommand, type InvokeCommandOutput } from "@aws-sdk/client-lambda";
import { STSClient } from "@aws-sdk/client-sts";
import type { LocalRuntime, NamedCredentials } from "../../local/server/runtime";
import { bootLocalRuntime, PROJECT_ROOT } from "../../local/start";
import { ensureSynthesized } from "../../core/model/freshness";
import type { AccountsModel, VpcEndpointModel } from "../../core/model/types";

export const OUT_DIR = path.join(PROJECT_ROOT, "cdktf.out");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TfJson = Record<string, any>;

/** A copy of cdktf.out (stacks and their assets) with `mutate` applied to the callee and caller JSON. */
export function stacksVariant(mutate: (stacks: { callee: TfJson; caller: TfJson }) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-variant-"));
  fs.cpSync(OUT_DIR, dir, { recursive: true });
  const file = (stack: string) => path.join(dir, "stacks", stack, "cdk.tf.json");
  const stacks = {
    callee: JSON.parse(fs.readFileSync(file("callee"), "utf8")),
    caller: JSON.parse(fs.readFileSync(file("caller"), "utf8")),
  };
  mutate(stacks);
  for (const [name, json] of Object.entries(stacks)) fs.writeFileSync(file(name), JSON.stringify(json, null, 2));
  return dir;
}

/** examples/three-callers.json: callers orders and billing in account 111111111111, reports in 444444444444. */
export const THREE_CALLERS_CONFIG = path.join(PROJECT_ROOT, "examples", "three-callers.json");

/**
 * The stacks synthesized with three callers (stacks callee, caller-orders, caller-billing, caller-reports) into a
 * directory of their own, as XACCT_CONFIG_FILE=examples/three-callers.json would synthesize them: cdktf.out stays
 * the single-caller stacks the other tests read.
 */
export async function threeCallerStacks(): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-three-callers-"));
  await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir, env: { XACCT_CONFIG_FILE: THREE_CALLERS_CONFIG } });
  return outDir;
}

/**
 * The stacks synthesized with these XACCT_* variables (e.g. XACCT_CALLER_VPC_ENDPOINTS=none) into a directory of their
 * own, as threeCallerStacks does: cdktf.out stays as the other tests read it.
 */
export async function stacksSynthesizedWith(variables: Record<string, string>): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "xacct-synth-with-"));
  await ensureSynthesized({ projectRoot: PROJECT_ROOT, outDir, env: variables });
  return outDir;
}

/** The interface endpoint of a function's VPC for a service ("sts", "lambda"): the one its calls pass. */
export function endpointOf(model: AccountsModel, functionName: string, service: string): VpcEndpointModel {
  const fn = [...model.functions.values()].find((f) => f.name === functionName);
  const endpoint = model.vpcEndpoints.find((e) => e.vpcId === fn?.vpcId && e.service === service);
  if (!endpoint) throw new Error(`no ${service} endpoint in the VPC of ${functionName}`);
  return endpoint;
}

/** Rewrites a policy held as a JSON string (assume_role_policy, policy) in a stack's resource. */
export function editPolicy(holder: TfJson, key: string, edit: (doc: TfJson) => void): void {
  const doc = JSON.parse(holder[key]);
  edit(doc);
  holder[key] = JSON.stringify(doc);
}

export function roleNamed(stack: TfJson, suffix: string): TfJson {
  const role = (Object.values(stack.resource.aws_iam_role) as TfJson[]).find((r) => String(r.name).endsWith(suffix));
  if (!role) throw new Error(`no role named *${suffix}`);
  return role;
}

export async function boot(
  outDir = OUT_DIR,
  extra: Parameters<typeof bootLocalRuntime>[0] = {},
): Promise<LocalRuntime & { logs: string[] }> {
  const logs: string[] = [];
  const runtime = await bootLocalRuntime({
    outDir,
    skipSynth: true,
    onFunctionLog: (fn, line) => logs.push(`[${fn}] ${line}`),
    asyncRetryDelayMs: 20,
    ...extra,
  });
  return Object.assign(runtime, { logs });
}

/** Boots a runtime for one test and always stops it, whatever the test did. */
export async function withRuntime<T>(
  outDir: string | undefined,
  extra: Parameters<typeof bootLocalRuntime>[0],
  body: (runtime: LocalRuntime & { logs: string[] }) => Promise<T>,
): Promise<T> {
  const runtime = await boot(outDir, extra);
  try {
    return await body(runtime);
  } finally {
    await runtime.stop();
  }
}

/** The caller's parsed answer to `event`, invoked as account A's administrator. */
export async function callerAnswer(runtime: LocalRuntime, event: unknown = { payload: QUOTE }): Promise<TfJson> {
  return payloadOf(await invokeCaller(runtime, event)) as TfJson;
}

export function credentialsOf(c: Pick<NamedCredentials, "accessKeyId" | "secretAccessKey" | "sessionToken">) {
  return {
    accessKeyId: c.accessKeyId,
    secretAccessKey: c.secretAccessKey,
    ...(c.sessionToken !== undefined ? { sessionToken: c.sessionToken } : {}),
  };
}

/** Real SDK v3 clients, pointed at the runtime, one attempt (retries would hide what a test checks). */
export function lambdaAs(runtime: LocalRuntime, profile: string, overrides: Partial<NamedCredentials> = {}): LambdaClient {
  return new LambdaClient({
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: credentialsOf({ ...runtime.credentials(profile), ...overrides }),
    maxAttempts: 1,
  });
}

export function stsAs(runtime: LocalRuntime, profile: string, overrides: Partial<NamedCredentials> = {}): STSClient {
  return new STSClient({
    region: runtime.region,
    endpoint: runtime.endpoint,
    credentials: credentialsOf({ ...runtime.credentials(profile), ...overrides }),
    maxAttempts: 1,
  });
}

export function output(runtime: LocalRuntime, stack: string, key: string): string {
  const v = runtime.model.outputs.get(stack)?.[key];
  if (typeof v !== "string") throw new Error(`no output ${stack}.${key}`);
  return v;
}

export function payloadOf(res: InvokeCommandOutput): unknown {
  const text = Buffer.from(res.Payload ?? new Uint8Array()).toString("utf8");
  return text === "" ? undefined : JSON.parse(text);
}

/** Invokes the caller function as account A's administrator (as the demo does). */
export async function invokeCaller(
  runtime: LocalRuntime,
  event: unknown,
  invocationType: "RequestResponse" | "Event" = "RequestResponse",
): Promise<InvokeCommandOutput> {
  return lambdaAs(runtime, "caller-admin").send(
    new InvokeCommand({
      FunctionName: output(runtime, "caller", "caller_function_name"),
      Payload: Buffer.from(JSON.stringify(event)),
      InvocationType: invocationType,
    }),
  );
}

/** Awaits a rejected promise and returns the error, failing when it resolves. */
export async function errorOf(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected the call to be refused, but it succeeded");
}

export const QUOTE = { operation: "quote", currency: "EUR", items: [{ sku: "ABC-123", quantity: 2, unitPriceCents: 1999 }] };
