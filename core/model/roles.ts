/**
 * IAM roles of the stacks with their trust policy and every policy that applies to them:
 * inline (`inline_policy` blocks, aws_iam_role_policy) and attached customer-managed
 * policies the stacks define. A policy the stacks do not define (AWS-managed ones
 * included) has no document the model could know, so attaching one is an error.
 */
import { Resolver, Where, child, describeWhere } from "./resolver";
import { JsonObject, StackDoc, blockList, resourcesOf } from "./stack-files";
import { ModelError, NamedPolicy, PolicyDocument, RoleModel, SourceRef } from "./types";

type RoleDraft = Omit<RoleModel, "policies"> & { policies: NamedPolicy[] };

const DEFAULT_MAX_SESSION_SECONDS = 3600;

const whereOf = (source: SourceRef, path = ""): Where => ({ ...source, path });

function asString(where: Where, value: unknown): string {
  if (typeof value !== "string") throw new ModelError(`${describeWhere(where)}: expected a string, found ${JSON.stringify(value)}`);
  return value;
}

/** A policy's name; with name_prefix (or none) Terraform generates it at apply time. */
function policyName(resolver: Resolver, where: Where, block: JsonObject): string {
  if (block.name_prefix !== undefined && block.name_prefix !== null) {
    throw new ModelError(
      `${describeWhere(child(where, "name_prefix"))}: the policy name is generated from name_prefix at apply time, so the model cannot know it; set 'name' instead`,
    );
  }
  if (typeof block.name !== "string")
    throw new ModelError(
      `${describeWhere(child(where, "name"))}: no policy name is set, so Terraform would generate one and the model cannot know it`,
    );
  return resolver.string(child(where, "name"), block.name);
}

function roleOf(resolver: Resolver, stack: string, name: string, body: JsonObject): RoleDraft {
  const source: SourceRef = { stack, address: `aws_iam_role.${name}` };
  const where = whereOf(source);
  const attr = (a: string) => asString(child(where, a), resolver.attribute(stack, "aws_iam_role", name, a));
  if (body.assume_role_policy === undefined)
    throw new ModelError(`${describeWhere(child(where, "assume_role_policy"))}: a role needs a trust policy`);
  const inline = blockList(body.inline_policy)
    // An inline_policy block without a policy is Terraform's way of saying "no inline policies".
    .filter((block) => typeof block.policy === "string" && block.policy !== "")
    .map((block, i): NamedPolicy => {
      const at = child(child(where, "inline_policy"), i);
      return { name: policyName(resolver, at, block), document: resolver.policy(child(at, "policy"), block.policy), source };
    });
  return {
    arn: attr("arn"),
    name: attr("name"),
    path: body.path === undefined ? "/" : resolver.string(child(where, "path"), body.path),
    accountId: resolver.target(stack, source.address, body).accountId,
    roleId: attr("unique_id"),
    maxSessionDurationSeconds:
      body.max_session_duration === undefined
        ? DEFAULT_MAX_SESSION_SECONDS
        : resolver.number(child(where, "max_session_duration"), body.max_session_duration),
    trustPolicy: resolver.policy(child(where, "assume_role_policy"), body.assume_role_policy),
    policies: inline,
    source,
  };
}

/** The role an attachment or inline policy names (IAM takes the role's name there), in the account of its provider. */
function roleNamed(roles: ReadonlyMap<string, RoleDraft>, where: Where, accountId: string, roleName: string): RoleDraft {
  const found = [...roles.values()].find((r) => r.accountId === accountId && r.name === roleName);
  if (!found) {
    const known = [...roles.values()].filter((r) => r.accountId === accountId).map((r) => r.name);
    throw new ModelError(
      `${describeWhere(where)}: no role named '${roleName}' in account ${accountId} is defined by the stacks (roles there: ${known.join(", ") || "none"})`,
    );
  }
  return found;
}

interface ManagedPolicy {
  readonly arn: string;
  readonly document: () => PolicyDocument;
  readonly source: SourceRef;
}

/** Customer-managed policies of every stack read, keyed by ARN; documents are resolved only when attached. */
function managedPolicies(resolver: Resolver): Map<string, ManagedPolicy> {
  const out = new Map<string, ManagedPolicy>();
  for (const stack of resolver.stacks.values()) {
    for (const [name, body] of resourcesOf(stack, "aws_iam_policy")) {
      const source: SourceRef = { stack: stack.name, address: `aws_iam_policy.${name}` };
      const arn = asString(whereOf(source, "arn"), resolver.attribute(stack.name, "aws_iam_policy", name, "arn"));
      out.set(arn, { arn, source, document: () => resolver.policy(whereOf(source, "policy"), body.policy) });
    }
  }
  return out;
}

interface Attachment {
  readonly where: Where;
  readonly accountId: string;
  readonly roleNames: readonly string[];
  readonly policyArn: string;
}

/** aws_iam_role_policy_attachment, aws_iam_policy_attachment (roles only) and a role's managed_policy_arns. */
function attachmentsOf(resolver: Resolver, stack: StackDoc): Attachment[] {
  const out: Attachment[] = [];
  const add = (source: SourceRef, body: JsonObject, roleNames: readonly string[], policyArns: unknown, policyWhere: Where) => {
    const accountId = resolver.target(stack.name, source.address, body).accountId;
    const arns = resolver.value(policyWhere, policyArns);
    for (const [i, arn] of (Array.isArray(arns) ? arns : [arns]).entries()) {
      const at = Array.isArray(arns) ? child(policyWhere, i) : policyWhere;
      out.push({ where: at, accountId, roleNames, policyArn: asString(at, arn) });
    }
  };
  for (const [name, body] of resourcesOf(stack, "aws_iam_role_policy_attachment")) {
    const source = { stack: stack.name, address: `aws_iam_role_policy_attachment.${name}` };
    const roleName = resolver.string(whereOf(source, "role"), body.role);
    add(source, body, [roleName], body.policy_arn, whereOf(source, "policy_arn"));
  }
  for (const [name, body] of resourcesOf(stack, "aws_iam_policy_attachment")) {
    const source = { stack: stack.name, address: `aws_iam_policy_attachment.${name}` };
    const roles = body.roles === undefined ? [] : resolver.value(whereOf(source, "roles"), body.roles);
    const roleNames = (Array.isArray(roles) ? roles : [roles]).map((r, i) => asString(child(whereOf(source, "roles"), i), r));
    if (roleNames.length > 0) add(source, body, roleNames, body.policy_arn, whereOf(source, "policy_arn"));
  }
  for (const [name, body] of resourcesOf(stack, "aws_iam_role")) {
    if (body.managed_policy_arns === undefined || body.managed_policy_arns === null) continue;
    const source = { stack: stack.name, address: `aws_iam_role.${name}` };
    const roleName = asString(whereOf(source, "name"), resolver.attribute(stack.name, "aws_iam_role", name, "name"));
    add(source, body, [roleName], body.managed_policy_arns, whereOf(source, "managed_policy_arns"));
  }
  return out;
}

function unknownPolicyError(a: Attachment, roleName: string): ModelError {
  const kind = /^arn:[^:]+:iam::aws:policy\//.test(a.policyArn)
    ? "an AWS-managed policy"
    : "a policy no stack defines (no aws_iam_policy has that ARN)";
  return new ModelError(
    `${describeWhere(a.where)}: attaches ${a.policyArn} to role '${roleName}'; that is ${kind}, whose document the model cannot know from the stacks, ` +
      `so it cannot model the role's permissions. Use a customer-managed aws_iam_policy or an inline policy instead`,
  );
}

/** Every role of the given stacks, keyed by ARN, with all its policies. */
export function buildRoles(resolver: Resolver, stacks: readonly StackDoc[]): Map<string, RoleModel> {
  const roles = new Map<string, RoleDraft>();
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_iam_role")) {
      const role = roleOf(resolver, stack.name, name, body);
      const existing = roles.get(role.arn);
      if (existing)
        throw new ModelError(
          `role ${role.arn} is defined twice: stack '${existing.source.stack}' ${existing.source.address} and stack '${stack.name}' ${role.source.address}`,
        );
      roles.set(role.arn, role);
    }
  }
  for (const stack of stacks) {
    for (const [name, body] of resourcesOf(stack, "aws_iam_role_policy")) {
      const source: SourceRef = { stack: stack.name, address: `aws_iam_role_policy.${name}` };
      const roleName = resolver.string(whereOf(source, "role"), body.role);
      const role = roleNamed(roles, whereOf(source, "role"), resolver.target(stack.name, source.address, body).accountId, roleName);
      role.policies.push({
        name: policyName(resolver, whereOf(source), body),
        document: resolver.policy(whereOf(source, "policy"), body.policy),
        source,
      });
    }
  }
  let managed: Map<string, ManagedPolicy> | undefined;
  for (const stack of stacks) {
    for (const attachment of attachmentsOf(resolver, stack)) {
      managed ??= managedPolicies(resolver);
      const policy = managed.get(attachment.policyArn);
      for (const roleName of attachment.roleNames) {
        const role = roleNamed(roles, attachment.where, attachment.accountId, roleName);
        if (!policy) throw unknownPolicyError(attachment, roleName);
        if (!role.policies.some((p) => p.name === policy.arn))
          role.policies.push({ name: policy.arn, document: policy.document(), source: policy.source });
      }
    }
  }
  return roles;
}
