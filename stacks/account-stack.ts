import { Construct } from "constructs";
import { S3Backend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { AccountScope } from "../constructs/account-context";
import { CrossAccountConfig } from "../config/config";
import { CrossAccountNames, namesFor, partitionOf } from "../config/names";

export type Side = "caller" | "callee";

export interface AccessSettings {
  readonly profile?: string;
  readonly assumeRole?: { readonly roleArn: string; readonly sessionName: string };
}

/** How one side's provider (and its state backend) reaches its account. */
export function accessFor(config: CrossAccountConfig, side: Side): AccessSettings {
  return side === "caller"
    ? accessWith(config, side, { deployRoleArn: config.callerDeployRoleArn, profile: config.callerProfile })
    : accessWith(config, side, { deployRoleArn: config.calleeDeployRoleArn, profile: config.calleeProfile });
}

export function accountIdOf(config: CrossAccountConfig, side: Side): string {
  return side === "caller" ? config.callerAccountId : config.calleeAccountId;
}

/** S3 backend settings shared by a stack's backend and the remote-state reads of it. */
export function stateSettings(config: CrossAccountConfig, side: Side, key: string) {
  return targetStateSettings(config, accessFor(config, side), key);
}

/** The one AWS provider of a stack: aliased, bound to one account, tagged. */
export function accountProvider(
  scope: Construct,
  opts: { alias: string; region: string; accountId: string; access: AccessSettings; environment: string },
): AwsProvider {
  return new AwsProvider(scope, "aws", {
    alias: opts.alias,
    region: opts.region,
    allowedAccountIds: [opts.accountId],
    ...(opts.access.profile ? { profile: opts.access.profile } : {}),
    ...(opts.access.assumeRole ? { assumeRole: [opts.access.assumeRole] } : {}),
    defaultTags: [{ tags: { Project: "cross-account-lambda", Environment: opts.environment, Side: opts.alias, ManagedBy: "cdktf" } }],
  });
}

/** Where a stack deploys: its account, how its provider reaches it, and its key in the state bucket. */
export interface StackTarget {
  readonly side: Side;
  readonly accountId: string;
  readonly access: AccessSettings;
  readonly stateKey: string;
}

/** The callee's target, or the single caller's (the shorthand fields). */
export function sideTarget(config: CrossAccountConfig, side: Side): StackTarget {
  const names = namesFor(config);
  return {
    side,
    accountId: accountIdOf(config, side),
    access: accessFor(config, side),
    stateKey: side === "caller" ? names.callerStateKey : names.calleeStateKey,
  };
}

/** How a stack's provider and backend reach an account: a role to assume, a profile, or the default chain. */
export function accessWith(
  config: Pick<CrossAccountConfig, "namePrefix">,
  side: string,
  how: { deployRoleArn?: string; profile?: string },
): AccessSettings {
  if (how.deployRoleArn) return { assumeRole: { roleArn: how.deployRoleArn, sessionName: `cdktf-${config.namePrefix}-${side}` } };
  if (how.profile) return { profile: how.profile };
  return {};
}

/** S3 backend settings for a target: the bucket and key, reached with the target's own access. */
export function targetStateSettings(config: CrossAccountConfig, access: AccessSettings, key: string) {
  return {
    bucket: config.stateBucket,
    key,
    region: config.stateRegion,
    encrypt: true,
    ...(config.stateKmsKeyArn ? { kmsKeyId: config.stateKmsKeyArn } : {}),
    ...(access.profile ? { profile: access.profile } : {}),
    ...(access.assumeRole ? { assumeRole: { roleArn: access.assumeRole.roleArn, sessionName: access.assumeRole.sessionName } } : {}),
  };
}

/**
 * A stack that deploys into exactly one account: one aliased AWS provider that
 * refuses any other account, and its own key in the S3 state bucket with
 * S3-native locking.
 */
export abstract class AccountStack extends TerraformStack {
  readonly provider: AwsProvider;
  readonly config: CrossAccountConfig;
  readonly names: CrossAccountNames;
  readonly partition: string;
  readonly accountId: string;

  readonly target: StackTarget;

  protected constructor(scope: Construct, id: string, config: CrossAccountConfig, target: StackTarget) {
    super(scope, id);
    this.config = config;
    this.target = target;
    this.names = namesFor(config);
    this.partition = partitionOf(config.region);
    this.accountId = target.accountId;

    this.provider = accountProvider(this, {
      alias: target.side,
      region: config.region,
      accountId: this.accountId,
      access: target.access,
      environment: config.environment,
    });
    // Every construct of the stack reads its provider and account from here (AccountScope.of).
    AccountScope.bind(this, { provider: this.provider, accountId: this.accountId, region: config.region, partition: this.partition });

    const backend = new S3Backend(this, targetStateSettings(config, target.access, target.stateKey));
    // S3-native state locking (Terraform >= 1.10); cdktf 0.21's typed config predates it.
    backend.addOverride("use_lockfile", true);
  }
}
