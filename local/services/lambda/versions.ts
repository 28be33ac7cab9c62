/**
 * Lambda's versions and aliases, as the runtime keeps them while it runs: each function's $LATEST and its
 * published versions, each with the code and configuration it was published with and execution
 * environments of its own (a pool each), and the aliases that point at a version.
 *
 * "A version includes the function code and configuration ... Function versions are immutable"
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html); "an alias is a pointer to a
 * function version that you can update" (https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html).
 */
import type { FunctionModel } from "../../../core/model/types";
import type { FunctionPool } from "../../exec/function-pool";
import { fail, ok, type Result } from "../../wire/result";
import type { LambdaErrorSpec } from "./errors";

export const LATEST = "$LATEST";

/** One version of a function: what it runs and the environments that run it. */
export interface FunctionVersion {
  /** "$LATEST" or a published version's number ("1"). */
  readonly version: string;
  /** For a published version: the digest of $LATEST's code and configuration it was published from. */
  readonly publishedFrom?: string;
  /** The version's ARN as the runtime keys its pool: the unqualified function ARN for $LATEST, `<arn>:<n>` for a published one. */
  readonly key: string;
  /** The code and configuration this version runs (a published version's never change). */
  readonly config: FunctionModel;
  readonly pool: FunctionPool;
}

/** The version a call's qualifier designates, and the ARN it was called by. */
export interface ResolvedFunction {
  /** The function as the stacks define it (its unqualified ARN, role, resource-based policy, event-invoke config). */
  readonly fn: FunctionModel;
  /** As the caller named it: undefined when unqualified, else "$LATEST", an alias or a version number. */
  readonly qualifier?: string;
  readonly version: FunctionVersion;
  /** The ARN invoked: the unqualified ARN, or it and ":<qualifier>". */
  readonly invokedArn: string;
}

/** What a new version may change, as UpdateFunctionConfiguration (or UpdateFunctionCode) would before PublishVersion. */
export interface VersionChanges {
  readonly environment?: Readonly<Record<string, string>>;
  readonly timeoutSeconds?: number;
  readonly memorySizeMb?: number;
  readonly description?: string;
  readonly handler?: string;
  /** Another zip (absolute path) and its SHA-256 hex, when the code changes. */
  readonly zipPath?: string;
  readonly zipSha256?: string;
}

/** Starts the execution environments of one version (they start on demand: creating a pool starts no process). */
export type PoolFactory = (fn: FunctionModel, version: string, config: FunctionModel) => FunctionPool;

/** An alias as it stands now. */
export interface AliasState {
  readonly name: string;
  /** The qualified ARN: the function ARN and ":<name>". */
  readonly arn: string;
  readonly functionVersion: string;
  readonly description?: string;
  /** Changes whenever the alias is updated (AliasConfiguration's RevisionId). */
  readonly revision: number;
}

interface FunctionState {
  readonly fn: FunctionModel;
  latest: FunctionVersion;
  readonly published: Map<string, FunctionVersion>;
  readonly aliases: Map<string, AliasState>;
}

/** The parts of a configuration a version captures, compared to decide whether PublishVersion has anything new. */
function configDigest(config: FunctionModel): string {
  const { environment, timeoutSeconds, memorySizeMb, description, handler, runtime, zipPath, zipSha256, roleArn } = config;
  return JSON.stringify({ environment, timeoutSeconds, memorySizeMb, description, handler, runtime, zipPath, zipSha256, roleArn });
}

export class FunctionVersions {
  private readonly functions = new Map<string, FunctionState>();
  /** Pools no longer reachable ($LATEST replaced by a new configuration) that still finish what they run. */
  private readonly retired = new Set<FunctionPool>();

  private createPool: PoolFactory = () => {
    throw new Error("the functions' versions are not started yet");
  };

  /**
   * Creates each function's versions and their pools, once the endpoint their environments call is known
   * (the services are started before it, with this registry still empty).
   */
  start(functions: Iterable<FunctionModel>, createPool: PoolFactory): void {
    if (this.functions.size > 0) throw new Error("the functions' versions are already started");
    this.createPool = createPool;
    for (const fn of functions) {
      const state: FunctionState = {
        fn,
        latest: { version: LATEST, key: fn.arn, config: fn, pool: createPool(fn, LATEST, fn) },
        published: new Map(),
        aliases: new Map(),
      };
      // In the stacks as synthesized, each published version starts from the function as configured (publish = true).
      for (const version of fn.versions) state.published.set(version, this.versionOf(fn, version, fn, configDigest(fn)));
      for (const alias of fn.aliases.values()) {
        const { name, arn, functionVersion, description } = alias;
        state.aliases.set(name, { name, arn, functionVersion, ...(description !== undefined ? { description } : {}), revision: 1 });
      }
      this.functions.set(fn.arn, state);
    }
  }

  /**
   * The version a qualifier names, or undefined when the function has no such version or alias. None or
   * $LATEST runs $LATEST, an alias the version it points at, a number that published version
   * (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: "Specify a version or alias to invoke a
   * published version of the function").
   */
  resolve(functionArn: string, qualifier?: string): ResolvedFunction | undefined {
    const state = this.functions.get(functionArn);
    if (!state) return undefined;
    const version = this.versionNamed(state, qualifier);
    if (!version) return undefined;
    return {
      fn: state.fn,
      ...(qualifier !== undefined ? { qualifier } : {}),
      version,
      invokedArn: qualifier !== undefined ? `${functionArn}:${qualifier}` : functionArn,
    };
  }

  /**
   * Publishes a version, as UpdateFunctionConfiguration with `changes` and then PublishVersion would: $LATEST
   * takes the changes (its new environments run them; those in flight finish on the old ones), and the
   * version is a copy of it, with `options.description` as the version's own description when given.
   * "Lambda doesn't publish a version if the function's configuration and code haven't changed since the last
   * version" (API_PublishVersion): then the last version is returned.
   */
  publishVersion(
    functionArn: string,
    changes: VersionChanges = {},
    options: { readonly description?: string } = {},
  ): Result<FunctionVersion, LambdaErrorSpec> {
    const state = this.functions.get(functionArn);
    if (!state) return fail({ code: "ResourceNotFoundException", status: 404, message: `Function not found: ${functionArn}` });
    const changed: FunctionModel = { ...state.latest.config, ...changes };
    if (configDigest(changed) !== configDigest(state.latest.config)) {
      const old = state.latest.pool;
      state.latest = { version: LATEST, key: functionArn, config: changed, pool: this.createPool(state.fn, LATEST, changed) };
      this.retired.add(old);
      void old.retire().finally(() => this.retired.delete(old));
    }
    const numbers = [...state.published.keys()].map(Number);
    const lastNumber = numbers.length > 0 ? Math.max(...numbers) : 0;
    const last = state.published.get(String(lastNumber));
    const from = configDigest(state.latest.config);
    if (last !== undefined && last.publishedFrom === from) return ok(last);
    const next = String(lastNumber + 1);
    const config = options.description !== undefined ? { ...state.latest.config, description: options.description } : state.latest.config;
    const version = this.versionOf(state.fn, next, config, from);
    state.published.set(next, version);
    return ok(version);
  }

  /** An alias of a function as it stands, or Lambda's "Alias not found". */
  alias(functionArn: string, name: string): Result<AliasState, LambdaErrorSpec> {
    const state = this.functions.get(functionArn);
    if (!state) return fail({ code: "ResourceNotFoundException", status: 404, message: `Function not found: ${functionArn}` });
    const alias = state.aliases.get(name);
    if (!alias) return fail({ code: "ResourceNotFoundException", status: 404, message: `Alias not found: ${functionArn}:${name}` });
    return ok(alias);
  }

  /**
   * Points an existing alias at `version` ($LATEST or a published version), and sets its description when given;
   * invocations already running finish where they are.
   */
  updateAlias(
    functionArn: string,
    name: string,
    version: string | undefined,
    options: { readonly description?: string } = {},
  ): Result<AliasState, LambdaErrorSpec> {
    const found = this.alias(functionArn, name);
    if (!found.ok) return found;
    const state = this.functions.get(functionArn)!;
    if (version !== undefined && version !== LATEST && !state.published.has(version))
      return fail({ code: "ResourceNotFoundException", status: 404, message: `Function not found: ${functionArn}:${version}` });
    const description = options.description ?? found.value.description;
    const updated: AliasState = {
      ...found.value,
      functionVersion: version ?? found.value.functionVersion,
      ...(description !== undefined ? { description } : {}),
      revision: found.value.revision + 1,
    };
    state.aliases.set(name, updated);
    return ok(updated);
  }

  /** Published version numbers of a function, oldest first. */
  versions(functionArn: string): string[] {
    return [...(this.functions.get(functionArn)?.published.keys() ?? [])];
  }

  /** Alias name -> version, for a function. */
  aliases(functionArn: string): ReadonlyMap<string, string> {
    return new Map([...(this.functions.get(functionArn)?.aliases.values() ?? [])].map((a) => [a.name, a.functionVersion]));
  }

  /** Every version of every function that can still be invoked. */
  all(): FunctionVersion[] {
    return [...this.functions.values()].flatMap((state) => [state.latest, ...state.published.values()]);
  }

  /** Stops every environment (retired ones included); in-flight invocations reject. */
  async close(): Promise<void> {
    await Promise.all([...this.all().map((v) => v.pool), ...this.retired].map((pool) => pool.close()));
  }

  private versionNamed(state: FunctionState, qualifier: string | undefined): FunctionVersion | undefined {
    if (qualifier === undefined || qualifier === LATEST) return state.latest;
    const target = state.aliases.get(qualifier)?.functionVersion ?? qualifier;
    return target === LATEST ? state.latest : state.published.get(target);
  }

  private versionOf(fn: FunctionModel, version: string, config: FunctionModel, publishedFrom: string): FunctionVersion {
    return { version, publishedFrom, key: `${fn.arn}:${version}`, config, pool: this.createPool(fn, version, config) };
  }
}
