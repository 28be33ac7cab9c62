/**
 * What every deploy-time rule works with: the rule's description, one check's outcome, the context of the walk
 * (what exists when a resource is created or destroyed), and the helpers that ask the IAM simulator.
 */
import {
  type AccountsModel,
  type AuthorizationDecision,
  type AuthorizationRequest,
  type Authorizer,
  type FunctionModel,
  type JsonObject,
  type KeyModel,
  type Principal,
  type Resolver,
  type RoleModel,
  roleSession,
  type StackDoc,
} from "../../core";
import type { DependencyGraph } from "./graph";

/** When AWS checks it: as Terraform creates the resource, as it destroys it, or when the deployed stack first runs. */
export type Phase = "create" | "destroy" | "run";

export interface DeployRule {
  readonly id: string;
  readonly phase: Phase;
  /** The AWS API call (or provider step) whose validation the rule encodes. */
  readonly call: string;
  readonly title: string;
  /** The document or public issue the rule encodes. */
  readonly source: string;
}

/** One rule applied to one resource: passed, or a finding. */
export interface DeployCheck {
  readonly rule: string;
  readonly stack: string;
  readonly address: string;
  readonly ok: boolean;
  /** What was checked, and what decided it. */
  readonly detail: string;
  /** For a failed check: what AWS (or the provider) would answer, and the fix. */
  readonly answer?: string;
  readonly fix?: string;
}

/** A rule's verdict on a resource; `address` when it judges another resource than the one walked (a function's security group). */
export type RuleOutcome = Omit<DeployCheck, "stack" | "address" | "rule"> & { readonly address?: string };

/** A rule, the resource type it is applied to as the walk reaches it, and how it judges one resource. */
export interface DeployRuleDefinition extends DeployRule {
  readonly appliesTo: string;
  judge(ctx: RuleContext, address: string): Promise<RuleOutcome | readonly RuleOutcome[] | undefined>;
}

export interface RuleContext {
  readonly model: AccountsModel;
  readonly resolver: Resolver;
  readonly authorizer: Authorizer;
  readonly stack: StackDoc;
  readonly graph: DependencyGraph;
  /** Every stack's name, in deploy order: a stack's resources exist before those of the stacks after it. */
  readonly deployOrder: readonly string[];
  /** The resources that certainly exist when `address` is created or destroyed. */
  existingAt(address: string): ReadonlySet<string>;
  body(address: string): JsonObject;
  /** A resolved argument of a resource (`kms_key_id`, `vpc_config.security_group_ids`). */
  argument(address: string, path: string): unknown;
  /** The resource addresses an argument references. */
  referencedBy(address: string, path: string): string[];
}

/** Ids AWS has not assigned yet: Lambda validates the execution role before it creates anything. */
export const PLACEHOLDER = { eni: "eni-00000000000000000", subnet: "subnet-00000000000000000", securityGroup: "sg-00000000000000000" };

/** Whether an attachment (`role`, or `roles` of aws_iam_policy_attachment) names this role. */
function attachesTo(ctx: RuleContext, attachment: string, role: RoleModel): boolean {
  const named = [ctx.argument(attachment, "role"), ctx.argument(attachment, "roles")].flat();
  return named.some((name) => name === role.name || name === role.arn);
}

/**
 * The role's identity policies that exist at `existing`: inline blocks with the role, aws_iam_role_policy with
 * itself, and a customer-managed policy only once both it and an attachment of it to this role exist.
 */
function policiesExisting(ctx: RuleContext, role: RoleModel, existing: ReadonlySet<string>): RoleModel["policies"] {
  return role.policies.filter((p) => {
    if (p.source.stack !== ctx.stack.name) return true;
    if (!existing.has(p.source.address)) return false;
    if (!p.source.address.startsWith("aws_iam_policy.")) return true;
    return [...existing].some(
      (a) =>
        /^aws_iam_(role_)?policy_attachment\./.test(a) && ctx.graph.dependsOn.get(a)?.has(p.source.address) && attachesTo(ctx, a, role),
    );
  });
}

/** A session of the role with only the policies that exist at `existing`. */
export function sessionOf(ctx: RuleContext, role: RoleModel, existing: ReadonlySet<string>): Principal {
  return roleSession({
    partition: ctx.model.partition,
    roleArn: role.arn,
    roleId: role.roleId,
    sessionName: "deploy-time-check",
    identityPolicies: policiesExisting(ctx, role, existing).map((p) => ({ name: p.name, document: p.document })),
    chained: false,
  });
}

export async function decide(
  ctx: RuleContext,
  request: Omit<AuthorizationRequest, "region"> & { region?: string },
): Promise<AuthorizationDecision> {
  return ctx.authorizer.authorize({ region: request.region ?? ctx.model.accounts[0].region, ...request } as AuthorizationRequest);
}

/** A KMS request on one of the stacks' keys: KMS decides with the key policy as well as the caller's policies. */
export function decideOnKey(
  ctx: RuleContext,
  principal: AuthorizationRequest["principal"],
  action: string,
  key: KeyModel,
  context?: Record<string, string>,
): Promise<AuthorizationDecision> {
  return decide(ctx, {
    principal,
    action,
    resourceArn: key.arn,
    resourceAccountId: key.accountId,
    resourcePolicy: key.policy,
    resourcePolicyName: `key policy of ${keyName(key)}`,
    region: key.region,
    ...(context ? { context } : {}),
  });
}

export function describe(decision: AuthorizationDecision): string {
  return decision.allowed ? `allowed by ${decision.allowedBy.join(", ")}` : `refused ${decision.reason} (${decision.deniedBy.join("; ")})`;
}

export function keyOf(ctx: RuleContext, keyArn: string): KeyModel | undefined {
  return ctx.model.keys.get(keyArn);
}

export function keyName(key: { arn: string; aliases: readonly string[] }): string {
  return key.aliases[0] ?? key.arn;
}

/** The address that defines a model object, if it is in this stack. */
export function local(ctx: RuleContext, source: { stack: string; address: string }): string | undefined {
  return source.stack === ctx.stack.name ? source.address : undefined;
}

export function functionAt(ctx: RuleContext, address: string): FunctionModel {
  const fn = [...ctx.model.functions.values()].find((f) => f.source.stack === ctx.stack.name && f.source.address === address);
  if (!fn) throw new Error(`no function model for ${address}`);
  return fn;
}

export function roleOf(ctx: RuleContext, fn: FunctionModel): RoleModel {
  const role = ctx.model.roles.get(fn.roleArn);
  if (!role) throw new Error(`no role model for ${fn.roleArn}`);
  return role;
}
