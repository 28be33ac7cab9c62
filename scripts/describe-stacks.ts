/**
 * `make describe`: reads the synthesized stacks and
 * prints, per account, what `cdktf deploy` would create, and the one path from
 * the caller to the callee. Reads only cdktf.out; needs no AWS.
 */
import * as fs from "fs";
import * as path from "path";

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const LABELS: Record<string, (r: Json) => string> = {
  aws_kms_key: (r) => `KMS key             ${r.description} (rotation ${r.enable_key_rotation ? "on" : "OFF"})`,
  aws_kms_alias: (r) => `KMS alias           ${r.name}`,
  aws_s3_bucket: (r) => `S3 bucket           ${r.bucket}`,
  aws_s3_bucket_versioning: (r) => `  versioning        ${r.versioning_configuration.status}`,
  aws_s3_bucket_server_side_encryption_configuration: (r) =>
    `  encryption        ${r.rule[0].apply_server_side_encryption_by_default.sse_algorithm}, bucket key ${r.rule[0].bucket_key_enabled ? "on" : "off"}`,
  aws_s3_bucket_public_access_block: () => `  public access     all four blocks on`,
  aws_s3_bucket_ownership_controls: (r) => `  ownership         ${r.rule.object_ownership}`,
  aws_s3_bucket_lifecycle_configuration: (r) =>
    `  lifecycle         noncurrent versions expire after ${r.rule[0].noncurrent_version_expiration[0].noncurrent_days} days`,
  aws_s3_bucket_policy: (r) =>
    `  bucket policy     ${JSON.parse(r.policy)
      .Statement.map((s: Json) => s.Sid)
      .join(", ")}`,
  aws_s3_object: (r) => `S3 object           ${r.key} (${r.server_side_encryption})`,
  aws_iam_role: (r) => `IAM role            ${r.name}`,
  aws_iam_role_policy: (r) =>
    `IAM inline policy   ${r.name} (${JSON.parse(r.policy)
      .Statement.map((s: Json) => s.Sid)
      .join(", ")})`,
  aws_cloudwatch_log_group: (r) => `Log group           ${r.name} (${r.retention_in_days} days, KMS)`,
  aws_security_group: (r) =>
    `Security group      ${r.name}: ${r.ingress.length} inbound rules, outbound ${r.egress.map((e: Json) => `${e.protocol}/${e.from_port}`).join(", ")}`,
  aws_sqs_queue: (r) => `SQS queue           ${r.name} (KMS)`,
  aws_lambda_function: (r) =>
    `Lambda function     ${r.function_name} (${r.runtime}, ${r.architectures.join(",")}, ${r.memory_size} MB, ${r.timeout} s, VPC ${r.vpc_config.subnet_ids.length} subnets)`,
  aws_lambda_function_event_invoke_config: () => `Async invoke config failed events -> SQS queue`,
};

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

function readStack(dir: string, name: string): Json {
  const file = path.join(dir, "stacks", name, "cdk.tf.json");
  if (!fs.existsSync(file)) fail(`${file} is missing: run 'make synth' (or 'npx cdktf synth') first.`);
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (err) {
    return fail(`${file} is not valid JSON (${(err as Error).message}): run 'make synth' again.`);
  }
}

function describe(name: string, stack: Json): void {
  const provider = stack.provider.aws[0];
  const backend = stack.terraform.backend;
  const state = backend.s3 ? `s3://${backend.s3.bucket}/${backend.s3.key}` : `local ${backend.local.path}`;
  console.log(
    `\n== Stack '${name}': account ${provider.allowed_account_ids.join(",")}, ${provider.region}, provider aws.${provider.alias}, state ${state}`,
  );
  for (const [type, byId] of Object.entries<Record<string, Json>>(stack.resource)) {
    for (const r of Object.values(byId)) console.log(`   ${(LABELS[type] ?? (() => type))(r)}`);
  }
  for (const [out] of Object.entries(stack.output ?? {})) console.log(`   output              ${out}`);
}

const dir = process.argv[2] ?? "cdktf.out";
if (!fs.existsSync(dir)) fail(`${dir} does not exist: run 'make synth' (or 'npx cdktf synth') first.`);
const bootstrap = readStack(dir, "bootstrap");
const callee = readStack(dir, "callee");
const caller = readStack(dir, "caller");
describe("bootstrap", bootstrap);
describe("callee", callee);
describe("caller", caller);

const invoker = Object.values<Json>(callee.resource.aws_iam_role).find((r) => r.name.endsWith("-invoker"));
const callerFn = Object.values<Json>(caller.resource.aws_lambda_function)[0];
const calleeFn = Object.values<Json>(callee.resource.aws_lambda_function)[0];
if (!invoker || !callerFn || !calleeFn) fail("The synthesized stacks lack the invoker role or a function: re-run 'make synth'.");
const trust = JSON.parse(invoker.assume_role_policy).Statement[0];
const callerAccount = caller.provider.aws[0].allowed_account_ids[0];
const calleeAccount = callee.provider.aws[0].allowed_account_ids[0];
console.log(`\n== The one path from account ${callerAccount} to account ${calleeAccount}`);
console.log(`   1. ${callerFn.function_name} runs as ${trust.Condition.ArnEquals["aws:PrincipalArn"]}`);
console.log(
  `   2. it calls sts:AssumeRole on role ${invoker.name} in ${calleeAccount}; the trust admits ${trust.Principal.AWS} only when ${JSON.stringify(trust.Condition)}`,
);
console.log(`   3. that role may lambda:InvokeFunction on ${calleeFn.function_name} and nothing else`);
console.log(
  `\nNothing was deployed. With AWS credentials: see README, "Deploy" (cdktf deploy bootstrap, then cdktf deploy caller callee).`,
);
