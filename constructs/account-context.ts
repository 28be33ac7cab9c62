/**
 * What every construct of a stack shares: the stack's one AWS provider and the account, region and partition it
 * deploys into. Looked up from the enclosing stack (as aws-cdk's Stack.of(scope) is), so no construct takes them as
 * props and none can be handed another account's.
 */
import { IConstruct } from "constructs";
import { TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";

export interface AccountContext {
  /** The stack's AWS provider, bound to `accountId` (allowed_account_ids). */
  readonly provider: AwsProvider;
  readonly accountId: string;
  readonly region: string;
  /** aws, aws-cn or aws-us-gov: the partition of `region`. */
  readonly partition: string;
}

const CONTEXTS = new WeakMap<TerraformStack, AccountContext>();

export class AccountScope {
  /** Binds a stack to its account; every construct inside it reads this with AccountScope.of(this). */
  static bind(stack: TerraformStack, context: AccountContext): void {
    if (CONTEXTS.has(stack)) throw new Error(`stack '${stack.node.id}' is already bound to account ${CONTEXTS.get(stack)?.accountId}`);
    CONTEXTS.set(stack, context);
  }

  /** The account of the stack that encloses `scope`. */
  static of(scope: IConstruct): AccountContext {
    const stack = TerraformStack.of(scope);
    const context = CONTEXTS.get(stack);
    if (!context) {
      throw new Error(
        `stack '${stack.node.id}' is bound to no account: create it as an AccountStack, or call AccountScope.bind(stack, ...) first`,
      );
    }
    return context;
  }
}
