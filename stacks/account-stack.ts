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
  const roleArn = side === "caller" ? config.callerDeployRoleArn : config.calleeDeployRoleArn;
  const profile = side === "caller" ? config.callerProfile : config.calleeProfile;
  if (roleArn) return { assumeRole: { roleArn, sessionName: `cdktf-${config.namePrefix}-${side}` } };
  if (profile) return { profile };
  return {};
}

export function accountIdOf(config: CrossAccountConfig, side: Side): string {
  return side === "caller" ? config.callerAccountId : config.calleeAccountId;
}

/** S3 backend settings shared by a stack's backend and the remote-state reads of it. */
export function stateSettings(config: CrossAccountConfig, side: Side, key: string) {
  const access = accessFor(config, side);
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

  protected constructor(scope: Construct, id: string, config: CrossAccountConfig, side: Side) {
    super(scope, id);
    this.config = config;
    this.names = namesFor(config);
    this.partition = partitionOf(config.region);
    this.accountId = accountIdOf(config, side);

    this.provider = accountProvider(this, {
      alias: side,
      region: config.region,
      accountId: this.accountId,
      access: accessFor(config, side),
      environment: config.environment,
    });
    // Every construct of the stack reads its provider and account from here (AccountScope.of).
    AccountScope.bind(this, { provider: this.provider, accountId: this.accountId, region: config.region, partition: this.partition });

    const key = side === "caller" ? this.names.callerStateKey : this.names.calleeStateKey;
    const backend = new S3Backend(this, stateSettings(config, side, key));
    // S3-native state locking (Terraform >= 1.10); cdktf 0.21's typed config predates it.
    backend.addOverride("use_lockfile", true);
  }
}
