import { Construct } from "constructs";
import { S3Backend, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
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
    const access = accessFor(config, side);

    this.provider = new AwsProvider(this, "aws", {
      alias: side,
      region: config.region,
      allowedAccountIds: [this.accountId],
      ...(access.profile ? { profile: access.profile } : {}),
      ...(access.assumeRole ? { assumeRole: [access.assumeRole] } : {}),
      defaultTags: [
        {
          tags: {
            Project: "cross-account-lambda",
            Environment: config.environment,
            Side: side,
            ManagedBy: "cdktf",
          },
        },
      ],
    });

    const key = side === "caller" ? this.names.callerStateKey : this.names.calleeStateKey;
    const backend = new S3Backend(this, stateSettings(config, side, key));
    // S3-native state locking (Terraform >= 1.10); cdktf 0.21's typed config predates it.
    backend.addOverride("use_lockfile", true);
  }
}
