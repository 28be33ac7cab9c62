/**
 * Lambda GetPolicy and GetFunctionConfiguration, answered from the model. As for Invoke, the
 * simulator decides first, over the caller's identity policies and the function's resource-based
 * policy, so another account reads a function only when that policy lets it.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import type { Principal } from "../../../core/iam/principals";
import type { FunctionModel } from "../../../core/model/types";
import { functionConfigurationResponse, functionPolicyResponse, revisionIdOf, type FunctionReadRequest } from "./read-wire";
import type { WireResponse } from "../../wire/response";
import { lambdaErrorResponse } from "./errors";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { authorizeFunctionCall } from "./function-access";

export interface FunctionReadCall {
  readonly caller: Principal;
  readonly region: string;
  readonly read: FunctionReadRequest;
  readonly requestId: string;
}

const ACTION_OF = { GetPolicy: "lambda:GetPolicy", GetFunctionConfiguration: "lambda:GetFunctionConfiguration" } as const;

export class LambdaReadService {
  /** Size and base64 SHA-256 of each function's zip, read once. */
  private readonly packages = new Map<string, { size: number; sha256Base64: string }>();

  constructor(
    private readonly accounts: LocalAccounts,
    private readonly audit: AuditLog,
    /** Stands in for LastModified: the model does not know when the stacks were applied. */
    private readonly deployedAt: Date,
  ) {}

  async handle(call: FunctionReadCall): Promise<WireResponse> {
    const { caller, requestId, read } = call;
    const action = ACTION_OF[read.operation];
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
      });
      return lambdaErrorResponse({ code, status, message }, requestId);
    };

    const access = await authorizeFunctionCall(this.accounts, {
      caller,
      action,
      functionName: read.functionName,
      ...(read.qualifier !== undefined ? { qualifier: read.qualifier } : {}),
      region: call.region,
    });
    if (!access.ok) {
      const refused = access.error;
      return fail(refused.code, refused.status, refused.message, refused.resource, refused.decidedBy, refused.resourceAccount);
    }
    const { fn, resourceArn, allowedBy } = access.value;
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
      });
      return response;
    };

    if (read.operation === "GetPolicy") {
      if (fn.resourcePolicy === undefined)
        return fail("ResourceNotFoundException", 404, "The resource you requested does not exist.", resourceArn, [], fn.accountId);
      return allowed(functionPolicyResponse(fn.resourcePolicy, revisionIdOf(fn.arn, JSON.stringify(fn.resourcePolicy)), requestId));
    }
    const pkg = this.packageOf(fn);
    return allowed(
      functionConfigurationResponse(
        {
          functionName: fn.name,
          // Not confirmed against AWS: that a Qualifier given as $LATEST comes back in FunctionArn.
          functionArn: resourceArn,
          runtime: fn.runtime,
          role: fn.roleArn,
          handler: fn.handler,
          architectures: fn.architectures,
          ...(fn.description !== undefined ? { description: fn.description } : {}),
          ...(fn.kmsKeyArn !== undefined ? { kmsKeyArn: fn.kmsKeyArn } : {}),
          codeSize: pkg.size,
          codeSha256: pkg.sha256Base64,
          timeoutSeconds: fn.timeoutSeconds,
          memorySizeMb: fn.memorySizeMb,
          lastModified: this.deployedAt,
          environment: fn.environment,
          revisionId: revisionIdOf(fn.arn, pkg.sha256Base64, JSON.stringify(fn.environment), fn.handler, fn.runtime, fn.roleArn),
          logFormat: fn.logFormat,
          ...(fn.applicationLogLevel !== undefined ? { applicationLogLevel: fn.applicationLogLevel } : {}),
          logGroup: fn.logGroupName,
        },
        requestId,
      ),
    );
  }

  /** Lambda reports the package's SHA-256 in base64; the stack records it in hex, else the zip is hashed. */
  private packageOf(fn: FunctionModel): { size: number; sha256Base64: string } {
    const known = this.packages.get(fn.arn);
    if (known) return known;
    const sha256Hex = fn.zipSha256 ?? createHash("sha256").update(fs.readFileSync(fn.zipPath)).digest("hex");
    const pkg = { size: fs.statSync(fn.zipPath).size, sha256Base64: Buffer.from(sha256Hex, "hex").toString("base64") };
    this.packages.set(fn.arn, pkg);
    return pkg;
  }
}
