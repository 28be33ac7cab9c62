/**
 * KMS DescribeKey and GetKeyPolicy, answered from the model's keys. KMS decides on the KEY POLICY:
 * the caller's IAM policies count only when the key policy lets the account delegate to IAM, and
 * another account reaches a key only through it.
 */
import { accessDeniedMessage, type EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { KeyModel } from "../../../core/model/types";
import {
  describeKeyResponse,
  getKeyPolicyResponse,
  isServedKmsOperation,
  kmsErrorResponse,
  stringMember,
  validationError,
  KMS_OPERATIONS,
  type KmsErrorSpec,
  type KmsOperation,
} from "./wire";
import type { WireResponse } from "../../wire/response";
import { fail as refused, ok, type Result } from "../../wire/result";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, endpointPassage, type RequestNetwork } from "../../server/network";

export interface KmsCall {
  readonly caller: Principal;
  readonly region: string;
  readonly operation: string;
  readonly input: Record<string, unknown>;
  readonly requestId: string;
  /** The VPC the call is sent from and the endpoint of this service it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

/** The only key policy name KMS has. */
const DEFAULT_POLICY_NAME = "default";
const KEY_ID = { required: true, min: 1, max: 2048 };
const POLICY_NAME = { required: false, min: 1, max: 128, pattern: { text: "[\\w]+", regex: /^\w+$/ } };

/** The key a KeyId names, and the alias it was named by. */
type KeyLookup = Result<{ key: KeyModel; alias?: string }, KmsErrorSpec>;

export class KmsService {
  constructor(
    private readonly accounts: LocalAccounts,
    private readonly audit: AuditLog,
    /** Stands in for CreationDate: the model does not know when the stacks were applied. */
    private readonly deployedAt: Date,
  ) {}

  async handle(call: KmsCall): Promise<WireResponse> {
    const { caller, requestId, operation } = call;
    const action = `kms:${operation}`;
    // How the endpoint's policy judged the call, once authorized: every record after names it.
    const judged: { endpointResult?: EvaluationResult } = {};
    const fail = (error: KmsErrorSpec, resource?: string, decidedBy: readonly string[] = [], resourceAccount?: string) => {
      this.audit.record({
        requestId,
        service: "kms",
        action,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource,
        resourceAccount,
        outcome: error.code === "AccessDeniedException" ? "denied" : "error",
        errorCode: error.code,
        message: error.message,
        decidedBy,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
      return kmsErrorResponse(error, requestId);
    };
    if (!isServedKmsOperation(operation)) {
      return fail({
        code: "UnknownOperationException",
        status: 400,
        message: `The local runtime serves only KMS ${KMS_OPERATIONS.join(" and ")}, not ${operation}.`,
      });
    }

    const problems: string[] = [];
    const keyId = stringMember(call.input, "KeyId", "keyId", KEY_ID, problems);
    const policyName =
      operation === "GetKeyPolicy" ? stringMember(call.input, "PolicyName", "policyName", POLICY_NAME, problems) : undefined;
    for (const member of [keyId, policyName]) if (typeof member === "object") return fail(member);
    if (problems.length > 0) return fail(validationError(problems));

    const lookup = this.keyFor(keyId as string, caller.accountId, call.region, operation);
    if (!lookup.ok) return fail(lookup.error, keyId as string);
    const { key, alias } = lookup.value;

    const decision = await this.accounts.authorizer.authorize({
      principal: caller,
      action,
      resourceArn: key.arn,
      resourceAccountId: key.accountId,
      region: call.region,
      resourcePolicy: key.policy,
      resourcePolicyName: `key policy of key/${key.keyId}`,
      context: { "kms:CallerAccount": caller.accountId, ...(alias !== undefined ? { "kms:RequestAlias": alias } : {}) },
      ...endpointPassage(call.network),
    });
    judged.endpointResult = decision.vpcEndpointResult;
    if (!decision.allowed) {
      return fail(
        { code: "AccessDeniedException", status: 400, message: accessDeniedMessage(caller.arn, action, key.arn, decision.reason) },
        key.arn,
        decision.deniedBy,
        key.accountId,
      );
    }
    if (operation === "GetKeyPolicy" && key.accountId !== caller.accountId) {
      // GetKeyPolicy has no cross-account use, whatever the key policy says.
      // Not confirmed against AWS: the code and message KMS answers here.
      return fail(
        { code: "AccessDeniedException", status: 400, message: accessDeniedMessage(caller.arn, action, key.arn) },
        key.arn,
        ["GetKeyPolicy is not a cross-account operation"],
        key.accountId,
      );
    }
    if (policyName !== undefined && policyName !== DEFAULT_POLICY_NAME) {
      // Not confirmed against AWS: the wording for a policy name other than "default".
      return fail(
        { code: "NotFoundException", status: 400, message: `Key policy '${policyName as string}' does not exist for key '${key.arn}'` },
        key.arn,
        [],
        key.accountId,
      );
    }
    this.audit.record({
      requestId,
      service: "kms",
      action,
      principal: caller.arn,
      principalAccount: caller.accountId,
      resource: key.arn,
      resourceAccount: key.accountId,
      outcome: "allowed",
      decidedBy: decision.allowedBy,
      ...auditedEndpoint(call.network, judged.endpointResult),
    });
    return operation === "DescribeKey"
      ? describeKeyResponse(
          {
            keyId: key.keyId,
            arn: key.arn,
            accountId: key.accountId,
            ...(key.description !== undefined ? { description: key.description } : {}),
            creationDate: this.deployedAt,
          },
          requestId,
        )
      : getKeyPolicyResponse(JSON.stringify(key.policy), DEFAULT_POLICY_NAME, requestId);
  }

  /**
   * The key a KeyId names: a key id or alias name in the caller's account and this region, or a
   * key or alias ARN anywhere. GetKeyPolicy takes key ids and key ARNs only.
   */
  private keyFor(keyId: string, callerAccount: string, region: string, operation: KmsOperation): KeyLookup {
    const partition = this.accounts.model.partition;
    const keys = [...this.accounts.model.keys.values()];
    const aliasArn = /^arn:[^:]+:kms:([^:]*):(\d{12}):(alias\/.+)$/.exec(keyId);
    const isAlias = keyId.startsWith("alias/") || aliasArn !== null;
    if (isAlias) {
      // Not confirmed against AWS: how GetKeyPolicy refuses an alias.
      if (operation === "GetKeyPolicy") return refused({ code: "NotFoundException", status: 400, message: `Invalid keyId ${keyId}` });
      const [aliasRegion, aliasAccount, alias] = aliasArn ? [aliasArn[1], aliasArn[2], aliasArn[3]] : [region, callerAccount, keyId];
      const key = keys.find((k) => k.accountId === aliasAccount && k.region === aliasRegion && k.aliases.includes(alias));
      // Not confirmed against AWS: the wording for an alias that does not exist.
      if (!key)
        return refused({
          code: "NotFoundException",
          status: 400,
          message: `Alias arn:${partition}:kms:${aliasRegion}:${aliasAccount}:${alias} is not found.`,
        });
      return ok({ key, alias });
    }
    const arn = keyId.startsWith("arn:") ? keyId : `arn:${partition}:kms:${region}:${callerAccount}:key/${keyId}`;
    const key = this.accounts.model.keys.get(arn);
    if (!key) return refused({ code: "NotFoundException", status: 400, message: `Key '${arn}' does not exist` });
    return ok({ key });
  }
}
