/**
 * Live mode: the same access model, read from the deployed accounts through AWS's read APIs,
 * so a change made by hand in a console is judged like a change to the stacks. The stacks
 * say which roles, functions, keys and buckets to read; the accounts say what they hold now.
 */
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  GetPolicyCommand,
  GetPolicyVersionCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from "@aws-sdk/client-iam";
import { DescribeKeyCommand, GetKeyPolicyCommand, KMSClient } from "@aws-sdk/client-kms";
import { GetFunctionConfigurationCommand, GetPolicyCommand as GetFunctionPolicyCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { GetBucketPolicyCommand, S3Client } from "@aws-sdk/client-s3";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni } from "@aws-sdk/credential-providers";
import { loadSharedConfigFiles } from "@smithy/core/config";
import type { NamedPolicy, PolicyDocument, RoleModel, SourceRef } from "../core";
import {
  DEPLOYED,
  VerifyInputError,
  statementLabel,
  statementsOf,
  type AccessModel,
  type BucketAccess,
  type FunctionAccess,
  type KeyAccess,
} from "./access-model";
import { keyName } from "./capabilities";

export interface LiveProfiles {
  readonly callerProfile: string;
  readonly calleeProfile: string;
}

/** IAM is global: AWS signs its requests for one region per partition. */
const IAM_SIGNING_REGION: Readonly<Record<string, string>> = { aws: "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1" };

interface AccountReader {
  readonly side: "caller" | "callee";
  readonly profile: string;
  readonly accountId: string;
  readonly callerArn: string;
  readonly iam: IAMClient;
  readonly lambda: LambdaClient;
  readonly kms: KMSClient;
  readonly s3: S3Client;
}

export async function readDeployedAccounts(stacks: AccessModel, profiles: LiveProfiles): Promise<{ model: AccessModel; drift: string[] }> {
  // One --caller-profile reads one account: callers spread over several are verified from the stacks.
  if (stacks.callerAccountIds.length !== 1)
    throw new VerifyInputError(
      `live mode reads one caller account (--caller-profile), but the callers run in accounts ${stacks.callerAccountIds.join(", ")}: verify the synthesized stacks without --live`,
    );
  const caller = await openAccount(stacks, "caller", profiles.callerProfile, stacks.callerAccountIds[0]);
  const callee = await openAccount(stacks, "callee", profiles.calleeProfile, stacks.calleeAccountId);
  const readerFor = (accountId: string) => (accountId === caller.accountId ? caller : callee);
  const drift: string[] = [];
  try {
    const keys: KeyAccess[] = [];
    /** Stand-in key ARNs of the stacks → the deployed keys' ARNs, found through their aliases. */
    const keyArns = new Map<string, string>();
    for (const key of stacks.keys) {
      const live = await readKey(readerFor(key.accountId), key);
      if (!live) {
        drift.push(`key ${keyName(key)}: not found in account ${key.accountId}; left out of the proof`);
        continue;
      }
      keyArns.set(key.arn, live.arn);
      keys.push(live);
      compare(drift, `key policy of ${keyName(key)}`, key.policy, live.policy);
    }
    const roles: RoleModel[] = [];
    for (const role of stacks.roles) {
      const live = await readRole(readerFor(role.accountId), role.name);
      if (!live) {
        drift.push(`role ${role.name}: not found in account ${role.accountId}; left out of the proof`);
        continue;
      }
      roles.push(live);
      compare(drift, `trust policy of role/${role.name}`, role.trustPolicy, live.trustPolicy);
      for (const p of role.policies) {
        const deployed = live.policies.find((x) => x.name === p.name);
        if (deployed) compare(drift, `policy ${p.name} of role/${role.name}`, p.document, deployed.document);
        else drift.push(`policy ${p.name} of role/${role.name}: in the stacks, not on the deployed role`);
      }
      for (const p of live.policies.filter((x) => !role.policies.some((s) => s.name === x.name)))
        drift.push(`policy ${p.name} of role/${role.name}: on the deployed role, not in the stacks`);
    }
    const functions: FunctionAccess[] = [];
    for (const fn of stacks.functions) {
      const live = await readFunction(readerFor(fn.accountId), fn);
      if (!live) {
        drift.push(`function ${fn.name}: not found in account ${fn.accountId}; left out of the proof`);
        continue;
      }
      functions.push(live);
      if (live.roleArn !== fn.roleArn) drift.push(`function ${fn.name}: runs as ${live.roleArn}, the stacks say ${fn.roleArn}`);
      if (live.vpcId !== fn.vpcId)
        drift.push(`function ${fn.name}: runs in ${live.vpcId ?? "no VPC"}, the stacks say ${fn.vpcId ?? "no VPC"}`);
      compare(drift, `resource policy of function ${fn.name}`, fn.resourcePolicy, live.resourcePolicy);
    }
    const buckets: BucketAccess[] = [];
    for (const bucket of stacks.buckets) {
      const live = await readBucket(readerFor(bucket.accountId), bucket, keyArns);
      buckets.push(live);
      compare(drift, `bucket policy of ${bucket.name}`, bucket.policy, live.policy);
    }
    requireIntendedPath(stacks, roles, functions);
    return {
      model: {
        ...stacks,
        origin: `the deployed accounts ${caller.accountId} (profile ${caller.profile}) and ${callee.accountId} (profile ${callee.profile})`,
        roles,
        functions,
        buckets,
        keys,
      },
      drift,
    };
  } finally {
    for (const reader of [caller, callee]) for (const client of [reader.iam, reader.lambda, reader.kms, reader.s3]) client.destroy();
  }
}

/** The profile's credentials and endpoint, checked to belong to the account the stack deploys to. */
async function openAccount(stacks: AccessModel, side: "caller" | "callee", profile: string, accountId: string): Promise<AccountReader> {
  const files = await loadSharedConfigFiles({ ignoreCache: true });
  const settings = files.configFile[profile] ?? {};
  if (files.configFile[profile] === undefined && files.credentialsFile[profile] === undefined) {
    throw new VerifyInputError(
      `profile '${profile}' (--${side}-profile) is in neither ${process.env.AWS_CONFIG_FILE ?? "~/.aws/config"} nor ${process.env.AWS_SHARED_CREDENTIALS_FILE ?? "~/.aws/credentials"}: create it (aws configure --profile ${profile}) or name an existing one`,
    );
  }
  // The SDK applies a profile's endpoint_url only to the profile in AWS_PROFILE; two profiles at once need it passed.
  const endpoint = settings.endpoint_url;
  const credentials = fromIni({ profile });
  const common = { credentials, maxAttempts: 2, ...(endpoint !== undefined ? { endpoint } : {}) };
  const region = stacks.region;
  const sts = new STSClient({ ...common, region });
  let identity;
  try {
    identity = await sts.send(new GetCallerIdentityCommand({}));
  } catch (err) {
    throw new VerifyInputError(
      `profile '${profile}' (--${side}-profile) cannot sign in: ${(err as Error).name}: ${(err as Error).message}. Check its credentials (aws sts get-caller-identity --profile ${profile})`,
    );
  } finally {
    sts.destroy();
  }
  if (identity.Account !== accountId) {
    throw new VerifyInputError(
      `profile '${profile}' (--${side}-profile) signs in as ${identity.Arn} in account ${identity.Account}, but the ${side} stack deploys to account ${accountId}: pass a profile for account ${accountId}`,
    );
  }
  return {
    side,
    profile,
    accountId,
    callerArn: identity.Arn ?? profile,
    iam: new IAMClient({ ...common, region: IAM_SIGNING_REGION[stacks.partition] ?? "us-east-1" }),
    lambda: new LambdaClient({ ...common, region }),
    kms: new KMSClient({ ...common, region }),
    // Path-style only for a custom endpoint (such as the local runtime); AWS itself prefers virtual-hosted.
    s3: new S3Client({ ...common, region, ...(endpoint !== undefined ? { forcePathStyle: true } : {}) }),
  };
}

const NOT_FOUND = new Set([
  "NoSuchEntityException",
  "NoSuchEntity",
  "ResourceNotFoundException",
  "NotFoundException",
  "NoSuchBucketPolicy",
  "NoSuchBucket",
]);
const DENIED = new Set(["AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "MethodNotAllowed"]);

/** One read; "not found" is undefined, a refusal is bad input naming the permission to grant. */
async function read<T>(reader: AccountReader, action: string, resource: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await call();
  } catch (err) {
    const name = (err as Error).name;
    if (NOT_FOUND.has(name)) return undefined;
    if (DENIED.has(name)) {
      throw new VerifyInputError(
        `profile '${reader.profile}' (${reader.callerArn}) may not call ${action} on ${resource}: AWS said ${name}: ${(err as Error).message}. ` +
          `Give it read access (the AWS-managed SecurityAudit policy covers every call live mode makes) or use another --${reader.side}-profile`,
      );
    }
    throw new VerifyInputError(`${action} on ${resource} with profile '${reader.profile}' failed: ${name}: ${(err as Error).message}`);
  }
}

/** IAM returns policy documents URL-encoded. */
function iamDocument(encoded: string | undefined, what: string): PolicyDocument {
  if (encoded === undefined) throw new VerifyInputError(`IAM returned no document for ${what}`);
  return parseDocument(decodeURIComponent(encoded), what);
}

function parseDocument(text: string, what: string): PolicyDocument {
  try {
    return JSON.parse(text) as PolicyDocument;
  } catch (err) {
    throw new VerifyInputError(`the ${what} AWS returned is not JSON (${(err as Error).message})`);
  }
}

const deployed = (address: string): SourceRef => ({ stack: DEPLOYED, address });

async function readRole(reader: AccountReader, name: string): Promise<RoleModel | undefined> {
  const at = `role ${name} in account ${reader.accountId}`;
  const got = await read(reader, "iam:GetRole", at, () => reader.iam.send(new GetRoleCommand({ RoleName: name })));
  if (!got?.Role) return undefined;
  const role = got.Role;
  const policies: NamedPolicy[] = [];
  let marker: string | undefined;
  do {
    const page = await read(reader, "iam:ListRolePolicies", at, () =>
      reader.iam.send(new ListRolePoliciesCommand({ RoleName: name, ...(marker ? { Marker: marker } : {}) })),
    );
    for (const policyName of page?.PolicyNames ?? []) {
      const policy = await read(reader, "iam:GetRolePolicy", `${at} (policy ${policyName})`, () =>
        reader.iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: policyName })),
      );
      if (policy)
        policies.push({
          name: policyName,
          document: iamDocument(policy.PolicyDocument, `policy ${policyName} of role ${name}`),
          source: deployed(`IAM role ${name}, inline policy ${policyName}`),
        });
    }
    marker = page?.IsTruncated ? page.Marker : undefined;
  } while (marker);
  do {
    const page = await read(reader, "iam:ListAttachedRolePolicies", at, () =>
      reader.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: name, ...(marker ? { Marker: marker } : {}) })),
    );
    for (const attached of page?.AttachedPolicies ?? []) {
      const arn = attached.PolicyArn as string;
      const policy = await read(reader, "iam:GetPolicy", arn, () => reader.iam.send(new GetPolicyCommand({ PolicyArn: arn })));
      const versionId = policy?.Policy?.DefaultVersionId;
      if (!versionId) throw new VerifyInputError(`managed policy ${arn} attached to role ${name} cannot be read (no default version)`);
      const version = await read(reader, "iam:GetPolicyVersion", `${arn} version ${versionId}`, () =>
        reader.iam.send(new GetPolicyVersionCommand({ PolicyArn: arn, VersionId: versionId })),
      );
      policies.push({
        name: arn,
        document: iamDocument(version?.PolicyVersion?.Document, `policy ${arn}`),
        source: deployed(`IAM managed policy ${arn}`),
      });
    }
    marker = page?.IsTruncated ? page.Marker : undefined;
  } while (marker);
  return {
    arn: role.Arn as string,
    name,
    path: role.Path ?? "/",
    accountId: reader.accountId,
    roleId: role.RoleId as string,
    maxSessionDurationSeconds: role.MaxSessionDuration ?? 3600,
    trustPolicy: iamDocument(role.AssumeRolePolicyDocument, `trust policy of role ${name}`),
    policies,
    source: deployed(`IAM role ${name} in account ${reader.accountId}`),
  };
}

async function readFunction(reader: AccountReader, fn: FunctionAccess): Promise<FunctionAccess | undefined> {
  const at = `function ${fn.name} in account ${reader.accountId}`;
  const config = await read(reader, "lambda:GetFunctionConfiguration", at, () =>
    reader.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: fn.name })),
  );
  if (!config) return undefined;
  const policy = await read(reader, "lambda:GetPolicy", at, () =>
    reader.lambda.send(new GetFunctionPolicyCommand({ FunctionName: fn.name })),
  );
  return {
    arn: config.FunctionArn ?? fn.arn,
    name: fn.name,
    accountId: reader.accountId,
    region: fn.region,
    roleArn: config.Role as string,
    // The VPC it runs in decides which endpoints its requests pass; an answer without VpcConfig keeps the stacks'.
    ...(config.VpcConfig !== undefined
      ? config.VpcConfig.VpcId
        ? { vpcId: config.VpcConfig.VpcId }
        : {}
      : fn.vpcId !== undefined
        ? { vpcId: fn.vpcId }
        : {}),
    ...(config.KMSKeyArn ? { kmsKeyArn: config.KMSKeyArn } : {}),
    ...(policy?.Policy ? { resourcePolicy: parseDocument(policy.Policy, `resource policy of function ${fn.name}`) } : {}),
    // Versions and aliases as the stacks define them (not read): the proof asks about each ARN a request can name.
    versions: fn.versions,
    aliases: fn.aliases,
    source: deployed(`Lambda function ${fn.name} in account ${reader.accountId}`),
  };
}

async function readKey(reader: AccountReader, key: KeyAccess): Promise<KeyAccess | undefined> {
  // The stacks know the key only by its alias: the key id is AWS's to choose.
  const alias = key.aliases[0];
  if (alias === undefined) return undefined;
  const described = await read(reader, "kms:DescribeKey", `${alias} in account ${reader.accountId}`, () =>
    reader.kms.send(new DescribeKeyCommand({ KeyId: alias })),
  );
  const arn = described?.KeyMetadata?.Arn;
  if (!arn) return undefined;
  const policy = await read(reader, "kms:GetKeyPolicy", arn, () =>
    reader.kms.send(new GetKeyPolicyCommand({ KeyId: arn, PolicyName: "default" })),
  );
  if (!policy?.Policy) throw new VerifyInputError(`kms:GetKeyPolicy returned no policy for ${arn}`);
  return {
    arn,
    accountId: reader.accountId,
    aliases: key.aliases,
    policy: parseDocument(policy.Policy, `key policy of ${alias}`),
    source: deployed(`KMS key ${alias} in account ${reader.accountId}`),
  };
}

async function readBucket(reader: AccountReader, bucket: BucketAccess, keyArns: ReadonlyMap<string, string>): Promise<BucketAccess> {
  const got = await read(reader, "s3:GetBucketPolicy", `bucket ${bucket.name}`, () =>
    reader.s3.send(new GetBucketPolicyCommand({ Bucket: bucket.name })),
  );
  const kmsKeyArn = bucket.kmsKeyArn === undefined ? undefined : (keyArns.get(bucket.kmsKeyArn) ?? bucket.kmsKeyArn);
  return {
    name: bucket.name,
    arn: bucket.arn,
    accountId: reader.accountId,
    ...(got?.Policy ? { policy: parseDocument(got.Policy, `bucket policy of ${bucket.name}`) } : {}),
    ...(kmsKeyArn !== undefined ? { kmsKeyArn } : {}),
    source: deployed(`S3 bucket ${bucket.name} in account ${reader.accountId}`),
  };
}

function requireIntendedPath(stacks: AccessModel, roles: readonly RoleModel[], functions: readonly FunctionAccess[]): void {
  for (const intended of stacks.intended) {
    for (const [what, arn, found] of [
      ["caller function's role", intended.callerRoleArn, roles.some((r) => r.arn === intended.callerRoleArn)],
      ["invoker role", intended.invokerRoleArn, roles.some((r) => r.arn === intended.invokerRoleArn)],
      ["caller function", intended.callerFunctionArn, functions.some((f) => f.arn === intended.callerFunctionArn)],
      ["callee function", intended.calleeFunctionArn, functions.some((f) => f.arn === intended.calleeFunctionArn)],
    ] as const) {
      if (!found)
        throw new VerifyInputError(
          `the ${what} (${arn}) is not deployed: deploy the stacks first (cdktf deploy ${["callee", ...stacks.intended.map((p) => p.stack)].join(" ")}), or verify the synthesized stacks without --live`,
        );
    }
  }
}

/**
 * Drift, statement by statement. Ids only AWS assigns (KMS key ids, security group ids) are not
 * compared: the stacks can only stand in for them.
 */
function compare(drift: string[], what: string, expected: PolicyDocument | undefined, actual: PolicyDocument | undefined): void {
  if (expected === undefined && actual === undefined) return;
  if (expected === undefined) return void drift.push(`${what}: exists in the account, not in the stacks`);
  if (actual === undefined) return void drift.push(`${what}: in the stacks, missing in the account`);
  const byLabel = (doc: PolicyDocument) => new Map(statementsOf(doc).map((s, i) => [statementLabel(s, i), canonical(s)]));
  const want = byLabel(expected);
  const have = byLabel(actual);
  const changes = [
    ...[...want.keys()].filter((k) => !have.has(k)).map((k) => `${k} removed`),
    ...[...have.keys()].filter((k) => !want.has(k)).map((k) => `${k} added`),
    ...[...want.keys()].filter((k) => have.has(k) && have.get(k) !== want.get(k)).map((k) => `${k} changed`),
  ];
  if (changes.length > 0) drift.push(`${what} differs from the stacks: ${changes.join(", ")}`);
}

function canonical(value: unknown): string {
  const normal = (v: unknown): unknown => {
    if (Array.isArray(v))
      return v.length === 1
        ? normal(v[0])
        : v
            .map(normal)
            .map((x) => JSON.stringify(x))
            .sort();
    if (v !== null && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, normal((v as Record<string, unknown>)[k])]),
      );
    if (typeof v === "string")
      return v.replace(/:key\/[0-9a-f-]{36}/g, ":key/<id>").replace(/security-group\/sg-[0-9a-f]+/g, "security-group/<id>");
    return v;
  };
  return JSON.stringify(normal(value));
}
