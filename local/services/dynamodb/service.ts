/**
 * DynamoDB's front door: each request's table is resolved and the request authorized here, with the stacks'
 * policies, as every other service of the runtime is; only then is the body sent, unchanged, to moto (the
 * DynamoDB behind it), in the table's account, and moto's answer returned as it is.
 */
import { accessDeniedMessage, type EvaluationResult } from "../../../core/iam/authorize";
import type { Principal } from "../../../core/iam/principals";
import type { TableModel } from "../../../core/model/types";
import type { LocalAccounts } from "../../server/accounts";
import type { AuditLog } from "../../server/audit";
import { auditedEndpoint, endpointPassage, type RequestNetwork } from "../../server/network";
import type { WireError, WireResponse } from "../../wire/response";
import { fail as refused, ok, type Result } from "../../wire/result";
import { sendToMoto, type MotoAddress } from "./moto-process";
import { DYNAMODB_CONTENT_TYPE, dynamoDbErrorResponse, tableNameOf, type DynamoDbOperation } from "./wire";

export interface DynamoDbCall {
  readonly caller: Principal;
  readonly region: string;
  readonly operation: DynamoDbOperation;
  /** The target as sent, forwarded unchanged. */
  readonly target: string;
  readonly input: Record<string, unknown>;
  /** The request body as sent, forwarded unchanged. */
  readonly body: Buffer;
  readonly contentType?: string;
  readonly requestId: string;
  /** The VPC the call is sent from and the endpoint of this service it passes there (undefined from outside any VPC). */
  readonly network?: RequestNetwork;
}

/** Where the tables live: moto's server, or undefined when the model has no table (then none is ever found). */
export type DynamoDbBackend = () => MotoAddress | undefined;

const TABLE_ARN = /^arn:([^:]+):dynamodb:([^:]*):(\d{12}):table\/([^/]+)$/;

/**
 * The item a single-item operation reads or writes, as a lock key: its table and partition key value. DynamoDB applies
 * each single-item write atomically, its condition included (DynamoDB developer guide, "Condition expressions":
 * conditional writes are atomic); moto's threaded server checks a condition and then writes, without a lock, so two
 * conditional PutItems of one new key at once can both succeed (the soak met it once in 1,000 concurrent pairs). The
 * front door runs one operation per item at a time.
 */
export function itemLockKey(
  table: Pick<TableModel, "arn" | "hashKey">,
  operation: string,
  input: Record<string, unknown>,
): string | undefined {
  const holder =
    operation === "PutItem"
      ? input.Item
      : operation === "GetItem" || operation === "UpdateItem" || operation === "DeleteItem"
        ? input.Key
        : undefined;
  if (typeof holder !== "object" || holder === null) return undefined;
  const key = (holder as Record<string, unknown>)[table.hashKey.name];
  return key === undefined ? undefined : `${table.arn}|${JSON.stringify(key)}`;
}

/** Runs the tasks of one key one after another, in the order given, and those of different keys at once. */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string | undefined, task: () => Promise<T>): Promise<T> {
    if (key === undefined) return task();
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(task, task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    // Only keys with work queued stay in the map.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with work queued or running. */
  get size(): number {
    return this.tails.size;
  }
}

export class DynamoDbService {
  private readonly items = new KeyedMutex();

  constructor(
    private readonly accounts: LocalAccounts,
    private readonly audit: AuditLog,
    private readonly backend: DynamoDbBackend,
  ) {}

  async handle(call: DynamoDbCall): Promise<WireResponse> {
    const { caller, requestId, operation } = call;
    const action = `dynamodb:${operation}`;
    const judged: { endpointResult?: EvaluationResult } = {};
    const record = (
      outcome: "allowed" | "denied" | "error",
      resource?: string,
      extra: { error?: WireError; decidedBy?: readonly string[]; account?: string } = {},
    ) =>
      this.audit.record({
        requestId,
        service: "dynamodb",
        action,
        principal: caller.arn,
        principalAccount: caller.accountId,
        resource,
        resourceAccount: extra.account,
        outcome,
        ...(extra.error !== undefined ? { errorCode: extra.error.code, message: extra.error.message } : {}),
        decidedBy: extra.decidedBy ?? [],
        ...auditedEndpoint(call.network, judged.endpointResult),
      });
    const fail = (error: WireError, resource?: string, decidedBy: readonly string[] = [], account?: string) => {
      record(error.code === "AccessDeniedException" ? "denied" : "error", resource, { error, decidedBy, ...(account ? { account } : {}) });
      return dynamoDbErrorResponse(error, requestId);
    };
    const named = tableNameOf(call.input);
    if (!named.ok) return fail(named.error);
    const resolved = this.tableArnOf(named.value, caller.accountId, call.region);
    if (!resolved.ok) return fail(resolved.error, named.value);
    const { arn, accountId } = resolved.value;
    // A query of an index is authorized on the index's ARN (Service Authorization Reference, DynamoDB resource type "index").
    const indexName = operation === "Query" && typeof call.input.IndexName === "string" ? call.input.IndexName : undefined;
    const resourceArn = indexName !== undefined ? `${arn}/index/${indexName}` : arn;

    // AWS authorizes the ARN before looking the table up: a caller without the permission is refused even for a
    // table that does not exist (not confirmed in the API reference; as AWS answers).
    const decision = await this.accounts.authorizer.authorize({
      principal: caller,
      action,
      resourceArn,
      resourceAccountId: accountId,
      region: call.region,
      ...endpointPassage(call.network),
    });
    judged.endpointResult = decision.vpcEndpointResult;
    if (!decision.allowed) {
      return fail(
        { code: "AccessDeniedException", status: 400, message: accessDeniedMessage(caller.arn, action, resourceArn, decision.reason) },
        resourceArn,
        decision.deniedBy,
        accountId,
      );
    }
    const table = this.accounts.model.tables.get(arn);
    const backend = this.backend();
    // DynamoDB's answer for a table that does not exist (DynamoDB API reference, GetItem "ResourceNotFoundException").
    if (table === undefined || backend === undefined)
      return fail({ code: "ResourceNotFoundException", status: 400, message: "Requested resource not found" }, resourceArn, [], accountId);

    record("allowed", resourceArn, { decidedBy: decision.allowedBy, account: accountId });
    try {
      return await this.items.run(itemLockKey(table, operation, call.input), () => this.forward(backend, table, call));
    } catch (err) {
      // moto is gone or broke the connection: DynamoDB's code for a failure on its side (DynamoDB API reference, "Common errors").
      const message = `the local DynamoDB (moto at ${backend.url}) did not answer: ${(err as Error).message}`;
      return dynamoDbErrorResponse({ code: "InternalServerError", status: 500, message }, requestId);
    }
  }

  /** The request as sent, to moto in the table's account and region; moto's status, body and content type as they are. */
  private async forward(backend: MotoAddress, table: TableModel, call: DynamoDbCall): Promise<WireResponse> {
    const answer = await sendToMoto(backend, {
      target: call.target,
      contentType: call.contentType ?? DYNAMODB_CONTENT_TYPE,
      body: call.body,
      accountId: table.accountId,
      region: table.region,
    });
    return {
      status: answer.status,
      headers: { "Content-Type": answer.contentType, "x-amzn-RequestId": call.requestId },
      body: answer.body,
    };
  }

  /**
   * The table a TableName names: a name is a table of the signer's account in the request's region; an ARN names its
   * own account (DynamoDB API reference, GetItem "TableName": "You can also provide the Amazon Resource Name (ARN)").
   */
  private tableArnOf(tableName: string, callerAccount: string, region: string): Result<{ arn: string; accountId: string }, WireError> {
    if (!tableName.startsWith("arn:"))
      return ok({
        arn: `arn:${this.accounts.model.partition}:dynamodb:${region}:${callerAccount}:table/${tableName}`,
        accountId: callerAccount,
      });
    const match = TABLE_ARN.exec(tableName);
    // Not confirmed against AWS: the wording for an ARN that names no table.
    if (match === null) return refused({ code: "ValidationException", status: 400, message: `Invalid TableName ARN: ${tableName}` });
    return ok({ arn: tableName, accountId: match[3] });
  }
}
