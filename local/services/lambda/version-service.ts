/**
 * Lambda PublishVersion, GetAlias and UpdateAlias on the runtime's versions and aliases. As for Invoke, the
 * simulator decides first, over the caller's identity policies and the function's resource-based policy.
 * Not confirmed against AWS: which ARN these are authorized on; the runtime uses the unqualified function
 * ARN (the API takes the function's name and the alias's name apart).
 */
import type { EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, type RequestNetwork } from "../../server/network";
import type { WireResponse } from "../../wire/response";
import { lambdaErrorResponse } from "./errors";
import { authorizeFunctionCall } from "./function-access";
import type { LambdaReadService } from "./read-service";
import { revisionIdOf } from "./read-wire";
import { aliasResponse, type VersionRequest } from "./version-wire";
import type { AliasState, FunctionVersions } from "./versions";

export interface VersionCall {
  readonly caller: Principal;
  readonly region: string;
  readonly request: VersionRequest;
  readonly requestId: string;
  /** The VPC the call is sent from and the Lambda endpoint it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

const ACTION_OF = { PublishVersion: "lambda:PublishVersion", GetAlias: "lambda:GetAlias", UpdateAlias: "lambda:UpdateAlias" } as const;

const aliasRevision = (alias: AliasState) => revisionIdOf(alias.arn, String(alias.revision), alias.functionVersion);

/** "The Revision Id provided does not match the latest Revision Id" (PreconditionFailedException, 412); the rest of the wording is the runtime's. */
const staleRevision = (read: string) => ({
  code: "PreconditionFailedException",
  status: 412,
  message: `The Revision Id provided does not match the latest Revision Id. Call the ${read} API to retrieve the latest Revision Id`,
});

export class LambdaVersionService {
  constructor(
    private readonly accounts: LocalAccounts,
    private readonly versions: FunctionVersions,
    private readonly audit: AuditLog,
    /** Answers PublishVersion's FunctionConfiguration and $LATEST's RevisionId as GetFunctionConfiguration does. */
    private readonly reads: LambdaReadService,
  ) {}

  async handle(call: VersionCall): Promise<WireResponse> {
    const { caller, request, requestId } = call;
    const action = ACTION_OF[request.operation];
    // How the endpoint's policy judged the call, once authorized: every record after names it.
    const judged: { endpointResult?: EvaluationResult } = {};
    const record = (
      outcome: "allowed" | "denied" | "error",
      resource: string,
      extra: { errorCode?: string; message?: string; decidedBy?: readonly string[]; resourceAccount?: string } = {},
    ) =>
      this.audit.record({
        requestId,
        service: "lambda",
        action,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource,
        outcome,
        decidedBy: extra.decidedBy ?? [],
        ...extra,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
    const fail = (
      error: { code: string; status: number; message: string },
      resource: string,
      decidedBy: readonly string[] = [],
      resourceAccount?: string,
    ) => {
      record(error.code === "AccessDeniedException" ? "denied" : "error", resource, {
        errorCode: error.code,
        message: error.message,
        decidedBy,
        ...(resourceAccount ? { resourceAccount } : {}),
      });
      return lambdaErrorResponse(error, requestId);
    };

    const access = await authorizeFunctionCall(this.accounts, this.versions, {
      caller,
      action,
      functionName: request.functionName,
      region: call.region,
      ...(call.network !== undefined ? { network: call.network } : {}),
    });
    judged.endpointResult = access.ok ? access.value.endpointResult : access.error.endpointResult;
    if (!access.ok) {
      const refused = access.error;
      return fail(refused, refused.resource, refused.decidedBy, refused.resourceAccount);
    }
    const { fn, resourceArn, allowedBy, target } = access.value;
    if (target.qualifier !== undefined) {
      // The API model lets a qualifier through the name's pattern; what Lambda then answers is not confirmed: the wording is the runtime's.
      return fail(
        {
          code: "InvalidParameterValueException",
          status: 400,
          message: `${request.operation} takes the function's unqualified name or ARN, not ${request.functionName}`,
        },
        resourceArn,
        [],
        fn.accountId,
      );
    }
    const allowed = (response: WireResponse, resource = resourceArn): WireResponse => {
      record("allowed", resource, { decidedBy: allowedBy, resourceAccount: fn.accountId });
      return response;
    };

    if (request.operation === "PublishVersion") {
      const latest = target.version;
      // "Only publish a version if the hash value matches the value that's specified" (API_PublishVersion); the wording is the runtime's.
      const sha = this.reads.packageOf(latest.config).sha256Base64;
      if (request.codeSha256 !== undefined && request.codeSha256 !== sha)
        return fail(
          {
            code: "InvalidParameterValueException",
            status: 400,
            message: `CodeSha256 (${request.codeSha256}) is different from the current CodeSha256 of $LATEST (${sha})`,
          },
          resourceArn,
          [],
          fn.accountId,
        );
      if (request.revisionId !== undefined && request.revisionId !== this.reads.revisionOf(latest))
        return fail(staleRevision("GetFunction"), resourceArn, [], fn.accountId);
      const published = this.versions.publishVersion(
        fn.arn,
        {},
        request.description !== undefined ? { description: request.description } : {},
      );
      if (!published.ok) return fail(published.error, resourceArn, [], fn.accountId);
      const version = published.value;
      return allowed(this.reads.configuration(version, version.key, requestId, 201));
    }

    const name = request.alias!;
    const current = this.versions.alias(fn.arn, name);
    if (!current.ok) return fail(current.error, `${fn.arn}:${name}`, [], fn.accountId);
    if (request.operation === "GetAlias") return allowed(aliasResponse(current.value, aliasRevision(current.value), requestId));
    if (request.revisionId !== undefined && request.revisionId !== aliasRevision(current.value))
      return fail(staleRevision("GetAlias"), current.value.arn, [], fn.accountId);
    const updated = this.versions.updateAlias(
      fn.arn,
      name,
      request.functionVersion,
      request.description !== undefined ? { description: request.description } : {},
    );
    if (!updated.ok) return fail(updated.error, current.value.arn, [], fn.accountId);
    return allowed(aliasResponse(updated.value, aliasRevision(updated.value), requestId));
  }
}
