/**
 * Lambda GetPolicy and GetFunctionConfiguration, answered from the model. As for Invoke, the
 * simulator decides first, over the caller's identity policies and the function's resource-based
 * policy on the ARN as asked, so another account reads a function only when that policy lets it.
 * With a Qualifier (or name:qualifier), each reports the version or alias named.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import type { EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { FunctionModel, PolicyDocument } from "../../../core/model/types";
import { functionConfigurationResponse, functionPolicyResponse, revisionIdOf, type FunctionReadRequest } from "./read-wire";
import type { WireResponse } from "../../wire/response";
import { lambdaErrorResponse } from "./errors";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, type RequestNetwork } from "../../server/network";
import { authorizeFunctionCall } from "./function-access";
import { LATEST, type FunctionVersion, type FunctionVersions } from "./versions";

export interface FunctionReadCall {
  readonly caller: Principal;
  readonly region: string;
  readonly read: FunctionReadRequest;
  readonly requestId: string;
  /** The VPC the call is sent from and the Lambda endpoint it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

const ACTION_OF = { GetPolicy: "lambda:GetPolicy", GetFunctionConfiguration: "lambda:GetFunctionConfiguration" } as const;

export class LambdaReadService {
  /** Size and base64 SHA-256 of each function's zip, read once. */
  private readonly packages = new Map<string, { size: number; sha256Base64: string }>();

  constructor(
    private readonly accounts: LocalAccounts,
    private readonly versions: FunctionVersions,
    private readonly audit: AuditLog,
    /** Stands in for LastModified: the model does not know when the stacks were applied. */
    private readonly deployedAt: Date,
  ) {}

  async handle(call: FunctionReadCall): Promise<WireResponse> {
    const { caller, requestId, read } = call;
    const action = ACTION_OF[read.operation];
    // How the endpoint's policy judged the call, once authorized: every record after names it.
    const judged: { endpointResult?: EvaluationResult } = {};
    const fail = (
      code: string,
      status: number,
      message: string,
      resource: string,
      decidedBy: readonly string[] = [],
      resourceAccount?: string,
    ) => {
      this.audit.record({
        requestId,
        service: "lambda",
        action,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource,
        resourceAccount,
        outcome: code === "AccessDeniedException" ? "denied" : "error",
        errorCode: code,
        message,
        decidedBy,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
      return lambdaErrorResponse({ code, status, message }, requestId);
    };

    const access = await authorizeFunctionCall(this.accounts, this.versions, {
      caller,
      action,
      functionName: read.functionName,
      ...(read.qualifier !== undefined ? { qualifier: read.qualifier } : {}),
      region: call.region,
      ...(call.network !== undefined ? { network: call.network } : {}),
    });
    judged.endpointResult = access.ok ? access.value.endpointResult : access.error.endpointResult;
    if (!access.ok) {
      const refused = access.error;
      return fail(refused.code, refused.status, refused.message, refused.resource, refused.decidedBy, refused.resourceAccount);
    }
    const { fn, resourceArn, allowedBy, target } = access.value;
    const allowed = (response: WireResponse): WireResponse => {
      this.audit.record({
        requestId,
        service: "lambda",
        action,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource: resourceArn,
        resourceAccount: fn.accountId,
        outcome: "allowed",
        decidedBy: allowedBy,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
      return response;
    };

    if (read.operation === "GetPolicy") {
      const policy = policyOf(fn, target.qualifier);
      if (policy === undefined)
        return fail("ResourceNotFoundException", 404, "The resource you requested does not exist.", resourceArn, [], fn.accountId);
      return allowed(functionPolicyResponse(policy, revisionIdOf(resourceArn, JSON.stringify(policy)), requestId));
    }
    // Not confirmed against AWS: that the ARN comes back as asked (with an alias or $LATEST when one was named).
    return allowed(this.configuration(target.version, resourceArn, requestId));
  }

  /** GetFunctionConfiguration's answer (PublishVersion's too, with 201) for one version, under the ARN given. */
  configuration(version: FunctionVersion, functionArn: string, requestId: string, status: 200 | 201 = 200): WireResponse {
    const config = version.config;
    const pkg = this.packageOf(config);
    return functionConfigurationResponse(
      {
        functionName: config.name,
        functionArn,
        // The version the qualifier names: "1" for an alias pointing at it, $LATEST unqualified.
        version: version.version,
        runtime: config.runtime,
        role: config.roleArn,
        handler: config.handler,
        architectures: config.architectures,
        ...(config.description !== undefined ? { description: config.description } : {}),
        ...(config.kmsKeyArn !== undefined ? { kmsKeyArn: config.kmsKeyArn } : {}),
        codeSize: pkg.size,
        codeSha256: pkg.sha256Base64,
        timeoutSeconds: config.timeoutSeconds,
        memorySizeMb: config.memorySizeMb,
        lastModified: this.deployedAt,
        environment: config.environment,
        revisionId: this.revisionOf(version),
        logFormat: config.logFormat,
        ...(config.applicationLogLevel !== undefined ? { applicationLogLevel: config.applicationLogLevel } : {}),
        logGroup: config.logGroupName,
      },
      requestId,
      status,
    );
  }

  /** A version's RevisionId: the same while its code and configuration are. */
  revisionOf(version: FunctionVersion): string {
    const config = version.config;
    return revisionIdOf(
      version.key,
      this.packageOf(config).sha256Base64,
      JSON.stringify(config.environment),
      config.handler,
      config.runtime,
      config.roleArn,
      String(config.timeoutSeconds),
      String(config.memorySizeMb),
      config.description ?? "",
    );
  }

  /** Lambda reports the package's SHA-256 in base64; the stack records it in hex, else the zip is hashed. */
  packageOf(fn: FunctionModel): { size: number; sha256Base64: string } {
    const known = this.packages.get(fn.zipPath);
    if (known) return known;
    const sha256Hex = fn.zipSha256 ?? createHash("sha256").update(fs.readFileSync(fn.zipPath)).digest("hex");
    const pkg = { size: fs.statSync(fn.zipPath).size, sha256Base64: Buffer.from(sha256Hex, "hex").toString("base64") };
    this.packages.set(fn.zipPath, pkg);
    return pkg;
  }
}

/**
 * GetPolicy: "If you don't provide this parameter [Qualifier], the API will return permissions that apply to the
 * unqualified function ARN"; with one, those of that version or alias (API_GetPolicy). The model keeps every
 * statement in one document, each naming its resource; $LATEST takes no policy of its own ("Lambda does not
 * support adding policies to version $LATEST", API_AddPermission), so it is answered as the unqualified function.
 */
function policyOf(fn: FunctionModel, qualifier: string | undefined): PolicyDocument | undefined {
  if (fn.resourcePolicy === undefined) return undefined;
  const resource = qualifier === undefined || qualifier === LATEST ? fn.arn : `${fn.arn}:${qualifier}`;
  const all = Array.isArray(fn.resourcePolicy.Statement) ? fn.resourcePolicy.Statement : [fn.resourcePolicy.Statement];
  const statements = all.filter((st) => st.Resource === resource);
  return statements.length === 0 ? undefined : { ...fn.resourcePolicy, Statement: statements };
}
