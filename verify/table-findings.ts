/**
 * Findings about the DynamoDB tables (the callee's idempotency records): an identity policy of any role but the callee's
 * that grants a table's item actions (whether or not the matrix shows it opening access today: across accounts the
 * table has no resource-based policy yet, and one added later would open it), and a table that is not encrypted with a
 * customer-managed key, has no point-in-time recovery or no TTL. The stacks always set all three; the findings protect
 * copies of them.
 */
import {
  asList,
  calleeRoleArnOf,
  describeSource,
  iamPatternMatches,
  isCalleeTable,
  roleName,
  statementLabel,
  statementsOf,
  type AccessModel,
  type TableAccess,
} from "./access-model";
import { TABLE_READ_ACTIONS, TABLE_WRITE_ACTIONS } from "./capabilities";

export type TableFindingCode =
  "table-access-beyond-callee" | "table-key-not-customer-managed" | "table-without-point-in-time-recovery" | "table-without-ttl";

export interface TableFinding {
  readonly code: TableFindingCode;
  readonly where: string;
  readonly problem: string;
  readonly fix: string;
}

const TABLE_ACTIONS = [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS];

const tableName = (table: TableAccess) => `table ${table.name} (${describeSource(table.source)})`;

export function findTableProblems(model: AccessModel): TableFinding[] {
  return [...model.tables.flatMap((t) => reviewTable(t)), ...grantsBeyondCallee(model)];
}

function reviewTable(table: TableAccess): TableFinding[] {
  const out: TableFinding[] = [];
  const where = tableName(table);
  if (table.kmsKeyArn === undefined || /:alias\/aws\//.test(table.kmsKeyArn))
    out.push({
      code: "table-key-not-customer-managed",
      where,
      problem: `is encrypted with ${table.kmsKeyArn === undefined ? "a key DynamoDB owns" : `the AWS-managed key ${table.kmsKeyArn}`}, whose policy no one here controls: anyone its account's IAM policies let read the table can decrypt it, and revoking the key cannot lock the records away`,
      fix: `set server_side_encryption { enabled = true, kms_key_arn = <the callee's key> } (a customer-managed key of account ${table.accountId} in ${table.region})`,
    });
  if (!table.pointInTimeRecovery)
    out.push({
      code: "table-without-point-in-time-recovery",
      where,
      problem: "has no point-in-time recovery: records deleted or overwritten by mistake (or by a bad deploy) cannot be restored",
      fix: "set point_in_time_recovery { enabled = true }",
    });
  if (table.ttlAttribute === undefined)
    out.push({
      code: "table-without-ttl",
      where,
      problem:
        "has no TTL: idempotency records never expire, so the table grows without end and an old record still answers a request long after its idempotency window",
      fix: 'set ttl { enabled = true, attribute_name = "expiration" } (the attribute the idempotency records carry)',
    });
  return out;
}

/** Whether a pattern of an Allow statement's Action covers any of the table's item actions. */
const tableActionsCovered = (statement: Record<string, unknown>): string[] =>
  TABLE_ACTIONS.filter((action) => asList(statement.Action).some((pattern) => iamPatternMatches(pattern, action, true)));

/** Identity statements of any role but the callee's (for the callee's tables) that grant a table's item actions. */
function grantsBeyondCallee(model: AccessModel): TableFinding[] {
  const out: TableFinding[] = [];
  const calleeRole = calleeRoleArnOf(model);
  for (const role of model.roles) {
    for (const policy of role.policies) {
      statementsOf(policy.document).forEach((statement, index) => {
        if (statement.Effect !== "Allow") return;
        const actions = tableActionsCovered(statement);
        if (actions.length === 0) return;
        for (const table of model.tables) {
          if (role.arn === calleeRole && isCalleeTable(model, table)) continue;
          if (!asList(statement.Resource).some((r) => iamPatternMatches(r, table.arn))) continue;
          const crossAccount = role.accountId !== table.accountId;
          const owner = calleeRole !== undefined && isCalleeTable(model, table) ? roleName(calleeRole) : "no role of the stacks";
          out.push({
            code: "table-access-beyond-callee",
            where: `policy ${policy.name} of role/${role.name} (${describeSource(policy.source)}): ${statementLabel(statement, index)}`,
            problem: `grants ${actions.join(", ")} on table ${table.name} to role/${role.name}: only ${owner} may read and write the callee's idempotency records${crossAccount ? ` (refused today only because the table, in account ${table.accountId}, has no resource-based policy; one added later would open it)` : ""}`,
            fix: `remove the table from this statement's Resource (or its dynamodb actions): nothing but the callee's role reads or writes ${table.name}`,
          });
        }
      });
    }
  }
  return out;
}
