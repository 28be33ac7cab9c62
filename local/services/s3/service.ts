/**
 * S3 GetBucketPolicy, answered from the model's buckets and decided by the simulator over the
 * caller's identity policies and the bucket policy. As AWS documents, only the bucket owner's
 * account may read a bucket policy: anyone else allowed by the policies gets 405.
 */
import { accessDeniedMessage, type EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { WireResponse } from "../../wire/response";
import { bucketPolicyResponse, s3ErrorResponse, type S3ErrorSpec } from "./wire";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, endpointPassage, type RequestNetwork } from "../../server/network";

export interface S3Call {
  readonly caller: Principal;
  readonly region: string;
  readonly bucket: string;
  readonly requestId: string;
  /** The VPC the call is sent from and the endpoint of this service it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

const ACTION = "s3:GetBucketPolicy";

export class S3Service {
  constructor(
    private readonly accounts: LocalAccounts,
    private readonly audit: AuditLog,
  ) {}

  async getBucketPolicy(call: S3Call): Promise<WireResponse> {
    const { caller, requestId } = call;
    const bucket = this.accounts.model.buckets.get(call.bucket);
    // How the endpoint's policy judged the call, once authorized: every record after names it.
    const judged: { endpointResult?: EvaluationResult } = {};
    const fail = (error: S3ErrorSpec, decidedBy: readonly string[] = []) => {
      this.audit.record({
        requestId,
        service: "s3",
        action: ACTION,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource: bucket?.arn ?? call.bucket,
        resourceAccount: bucket?.accountId,
        outcome: error.code === "AccessDenied" ? "denied" : "error",
        errorCode: error.code,
        message: error.message,
        decidedBy,
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
      return s3ErrorResponse(error, requestId);
    };
    // S3 tells anyone whether a bucket exists, and where.
    if (!bucket)
      return fail({
        code: "NoSuchBucket",
        status: 404,
        message: "The specified bucket does not exist",
        fields: { BucketName: call.bucket },
      });
    if (bucket.region !== call.region) {
      return fail({
        code: "PermanentRedirect",
        status: 301,
        message:
          "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.",
        fields: { Bucket: bucket.name, Endpoint: `s3.${bucket.region}.amazonaws.com` },
        headers: { "x-amz-bucket-region": bucket.region },
      });
    }

    const decision = await this.accounts.authorizer.authorize({
      principal: caller,
      action: ACTION,
      resourceArn: bucket.arn,
      resourceAccountId: bucket.accountId,
      region: call.region,
      ...(bucket.policy !== undefined ? { resourcePolicy: bucket.policy } : {}),
      resourcePolicyName: `bucket policy of ${bucket.name}`,
      ...endpointPassage(call.network),
    });
    judged.endpointResult = decision.vpcEndpointResult;
    if (!decision.allowed) {
      // S3 explains a refusal only to callers of the bucket's own account; others read "Access Denied".
      // Not confirmed against AWS: that the resource is quoted in the explanation.
      const message =
        caller.accountId === bucket.accountId
          ? accessDeniedMessage(caller.arn, ACTION, `"${bucket.arn}"`, decision.reason)
          : "Access Denied";
      return fail({ code: "AccessDenied", status: 403, message }, decision.deniedBy);
    }
    if (caller.accountId !== bucket.accountId) {
      // Not confirmed against AWS: the extra elements of this error.
      return fail(
        {
          code: "MethodNotAllowed",
          status: 405,
          message: "The specified method is not allowed against this resource.",
          fields: { Method: "GET", ResourceType: "BUCKETPOLICY" },
        },
        ["GetBucketPolicy is served to the bucket owner's account only"],
      );
    }
    if (bucket.policy === undefined)
      return fail({
        code: "NoSuchBucketPolicy",
        status: 404,
        message: "The bucket policy does not exist",
        fields: { BucketName: bucket.name },
      });
    this.audit.record({
      requestId,
      service: "s3",
      action: ACTION,
      principal: caller.arn,
      principalAccount: caller.accountId,
      resource: bucket.arn,
      resourceAccount: bucket.accountId,
      outcome: "allowed",
      decidedBy: decision.allowedBy,
      ...auditedEndpoint(call.network, judged.endpointResult),
    });
    return bucketPolicyResponse(JSON.stringify(bucket.policy), requestId);
  }
}
