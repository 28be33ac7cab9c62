import { computeQuote } from "../../lambda-src/callee/business-logic";
import { DemoFailure } from "../../lambda-src/callee/demo-operations";
import {
  accountIdFromArn,
  createCalleeHandler,
  createCalleeLogger,
  type CalleeResponse,
  type CalleeSuccess,
  type CalleeValidationFailure,
} from "../../lambda-src/callee/handler";
import type { Idempotency } from "../../lambda-src/callee/idempotency-settings";
import { validateCalleeInput } from "../../lambda-src/callee/schema";
import { CALLEE_ACCOUNT, captureLogs, fakeContext, type CapturedLogs } from "./helpers";

const CALLEE_FN_ARN = `arn:aws:lambda:eu-central-1:${CALLEE_ACCOUNT}:function:cross-account-callee`;
const calleeContext = (overrides: Parameters<typeof fakeContext>[0] = {}) =>
  fakeContext({ invokedFunctionArn: CALLEE_FN_ARN, ...overrides });

let logs: CapturedLogs;
beforeEach(() => {
  logs = captureLogs();
});
afterEach(() => logs.restore());

function rejected(response: CalleeResponse): CalleeValidationFailure {
  expect(response.ok).toBe(false);
  return response as CalleeValidationFailure;
}

describe("computeQuote (business logic)", () => {
  it("prices every line and totals them", () => {
    expect(
      computeQuote({
        operation: "quote",
        currency: "USD",
        items: [
          { sku: "ABC-1", quantity: 3, unitPriceCents: 1999 },
          { sku: "FREE", quantity: 1, unitPriceCents: 0 },
          { sku: "Z9", quantity: 10, unitPriceCents: 5 },
        ],
      }),
    ).toEqual({
      currency: "USD",
      lines: [
        { sku: "ABC-1", quantity: 3, unitPriceCents: 1999, lineTotalCents: 5997 },
        { sku: "FREE", quantity: 1, unitPriceCents: 0, lineTotalCents: 0 },
        { sku: "Z9", quantity: 10, unitPriceCents: 5, lineTotalCents: 50 },
      ],
      totalQuantity: 14,
      totalCents: 6047,
    });
  });

  it("stays exact at the schema's limits", () => {
    const items = Array.from({ length: 100 }, (_, i) => ({ sku: `SKU-${i}`, quantity: 1000, unitPriceCents: 10_000_000 }));
    const quote = computeQuote({ operation: "quote", currency: "EUR", items });
    expect(quote.totalCents).toBe(1_000_000_000_000);
    expect(Number.isSafeInteger(quote.totalCents)).toBe(true);
  });
});

describe("validateCalleeInput", () => {
  it("accepts a valid quote and defaults the currency to EUR", () => {
    const result = validateCalleeInput({ operation: "quote", items: [{ sku: "A-1", quantity: 1, unitPriceCents: 100 }] });
    expect(result).toEqual({
      ok: true,
      value: { operation: "quote", currency: "EUR", items: [{ sku: "A-1", quantity: 1, unitPriceCents: 100 }] },
    });
  });

  it("lists each bad field with its path", () => {
    const result = validateCalleeInput({
      operation: "quote",
      correlationId: "",
      currency: "JPY",
      items: [
        { sku: "ok-lowercase", quantity: 1, unitPriceCents: 1 },
        { sku: "B", quantity: 0, unitPriceCents: 1.5 },
        { sku: "C", quantity: 1001, unitPriceCents: 10_000_001, colour: "red" },
      ],
      extra: true,
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path).sort()).toEqual(
      [
        "correlationId",
        "currency",
        "extra",
        "items.0.sku",
        "items.1.quantity",
        "items.1.unitPriceCents",
        "items.2.colour",
        "items.2.quantity",
        "items.2.unitPriceCents",
      ].sort(),
    );
    for (const issue of result.issues) expect(issue.message.length).toBeGreaterThan(0);
  });

  it.each([
    ["no items", { operation: "quote", items: [] }, "items"],
    [
      "too many items",
      { operation: "quote", items: Array.from({ length: 101 }, () => ({ sku: "A", quantity: 1, unitPriceCents: 1 })) },
      "items",
    ],
    ["items not an array", { operation: "quote", items: { sku: "A" } }, "items"],
    ["a null item", { operation: "quote", items: [null] }, "items.0"],
    ["a 33-char sku", { operation: "quote", items: [{ sku: "A".repeat(33), quantity: 1, unitPriceCents: 1 }] }, "items.0.sku"],
    ["a string quantity", { operation: "quote", items: [{ sku: "A", quantity: "1", unitPriceCents: 1 }] }, "items.0.quantity"],
    ["a missing operation", { items: [] }, "operation"],
    ["an unknown operation", { operation: "refund" }, "operation"],
    ["a too long correlationId", { operation: "fail", correlationId: "x".repeat(129) }, "correlationId"],
    ["sleep without milliseconds", { operation: "sleep" }, "milliseconds"],
    ["sleep too long", { operation: "sleep", milliseconds: 900_001 }, "milliseconds"],
    ["sleep negative", { operation: "sleep", milliseconds: -1 }, "milliseconds"],
  ])("rejects %s", (_label, input, path) => {
    const result = validateCalleeInput(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues.map((i) => i.path)).toContain(path);
  });

  it.each(["quote", "fail", "sleep"])("accepts the idempotencyKey the caller sends with every %s", (operation) => {
    const base = {
      quote: { operation: "quote", items: [{ sku: "A-1", quantity: 1, unitPriceCents: 100 }] },
      fail: { operation: "fail" },
      sleep: { operation: "sleep", milliseconds: 0 },
    }[operation];
    const result = validateCalleeInput({ ...base, correlationId: "corr-1", idempotencyKey: "key-1" });
    expect(result).toMatchObject({ ok: true, value: { operation, correlationId: "corr-1", idempotencyKey: "key-1" } });
  });

  it.each([
    ["empty", ""],
    ["129 characters", "k".repeat(129)],
    ["a number", 42],
  ])("rejects an idempotencyKey that is %s", (_label, idempotencyKey) => {
    expect(validateCalleeInput({ operation: "fail", idempotencyKey })).toMatchObject({ ok: false, issues: [{ path: "idempotencyKey" }] });
  });

  it.each([[null], [undefined], [[]], [[1, 2]], ["a string"], [""], [0], [42.5], [true], [false]])(
    "rejects non-object input %j at the root",
    (input) => {
      expect(validateCalleeInput(input)).toEqual({
        ok: false,
        issues: [{ path: "(root)", message: expect.stringMatching(/expected object/) }],
      });
    },
  );

  it("never throws on any JSON value (randomised, seeded)", () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const keys = ["operation", "items", "sku", "quantity", "unitPriceCents", "currency", "correlationId", "milliseconds", "__proto__", "x"];
    const values = ["quote", "fail", "sleep", "EUR", "A-1", "", 0, 1, -1, 1e300, 0.5, null, true];
    const randomJson = (depth: number): unknown => {
      const r = rand();
      if (depth > 3 || r < 0.4) return values[Math.floor(rand() * values.length)];
      if (r < 0.7) return Array.from({ length: Math.floor(rand() * 4) }, () => randomJson(depth + 1));
      return Object.fromEntries(
        Array.from({ length: Math.floor(rand() * 5) }, () => [keys[Math.floor(rand() * keys.length)], randomJson(depth + 1)]),
      );
    };
    for (let i = 0; i < 2000; i++) {
      // Round-trip through JSON so the value is exactly what Lambda would deliver.
      const text = JSON.stringify(randomJson(0)) ?? "null";
      const value: unknown = JSON.parse(text);
      const result = validateCalleeInput(value);
      expect(typeof result.ok).toBe("boolean");
    }
  });

  it("does not throw on hostile objects either", () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error("gotcha");
        },
        ownKeys() {
          throw new Error("gotcha");
        },
      },
    );
    expect(validateCalleeInput(hostile).ok).toBe(false);
  });
});

describe("callee handler", () => {
  it("answers a valid quote with result, correlation id and servedBy", async () => {
    const handler = createCalleeHandler();
    const response = await handler(
      { operation: "quote", correlationId: "corr-q", currency: "GBP", items: [{ sku: "ABC", quantity: 2, unitPriceCents: 250 }] },
      calleeContext(),
    );
    expect(response).toEqual({
      ok: true,
      result: {
        currency: "GBP",
        lines: [{ sku: "ABC", quantity: 2, unitPriceCents: 250, lineTotalCents: 500 }],
        totalQuantity: 2,
        totalCents: 500,
      },
      correlationId: "corr-q",
      servedBy: { functionArn: CALLEE_FN_ARN, accountId: CALLEE_ACCOUNT },
    });
    const entries = logs.entries();
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ level: "INFO", correlationId: "corr-q", outcome: "success", operation: "quote" });
  });

  it("answers VALIDATION_FAILED with issues instead of throwing, keeping a valid correlation id", async () => {
    const response = rejected(
      await createCalleeHandler()(
        { operation: "quote", correlationId: "corr-bad", items: [{ sku: "A", quantity: 0, unitPriceCents: 1 }] },
        calleeContext(),
      ),
    );
    expect(response).toEqual({
      ok: false,
      error: { code: "VALIDATION_FAILED", issues: [{ path: "items.0.quantity", message: expect.any(String) }] },
      correlationId: "corr-bad",
      servedBy: { functionArn: CALLEE_FN_ARN, accountId: CALLEE_ACCOUNT },
    });
    expect(logs.entries()[0]).toMatchObject({ level: "WARN", outcome: "validation_failed", badFields: ["items.0.quantity"] });
  });

  it.each([[null], [[1]], ["text"], [7], [undefined]])(
    "answers VALIDATION_FAILED for non-object input %j, with awsRequestId as correlation id",
    async (input) => {
      const context = calleeContext({ awsRequestId: "callee-req-x" });
      const response = rejected(await createCalleeHandler()(input, context));
      expect(response.error.code).toBe("VALIDATION_FAILED");
      expect(response.error.issues[0].path).toBe("(root)");
      expect(response.correlationId).toBe("callee-req-x");
    },
  );

  it("fail: throws a DemoFailure so Lambda reports errorType DemoFailure", async () => {
    const handler = createCalleeHandler();
    const promise = handler({ operation: "fail", correlationId: "corr-f" }, calleeContext());
    await expect(promise).rejects.toBeInstanceOf(DemoFailure);
    await expect(promise).rejects.toMatchObject({ name: "DemoFailure", message: expect.stringContaining('"fail"') });
    expect(logs.entries()[0]).toMatchObject({ level: "ERROR", correlationId: "corr-f", outcome: "error", operation: "fail" });
  });

  it("sleep: awaits the requested time, then answers", async () => {
    const sleep = jest.fn(async (_ms: number) => undefined);
    const response = await createCalleeHandler({ sleep })({ operation: "sleep", milliseconds: 1234 }, calleeContext());
    expect(sleep).toHaveBeenCalledWith(1234);
    expect(response).toMatchObject({ ok: true, result: { sleptMs: 1234 } });
  });

  it("sleep: really waits with the default sleeper", async () => {
    const started = Date.now();
    await createCalleeHandler()({ operation: "sleep", milliseconds: 50 }, calleeContext());
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
  });

  it("resets the correlation id between invocations", async () => {
    const logger = createCalleeLogger();
    const handler = createCalleeHandler({ logger });
    await handler({ operation: "sleep", milliseconds: 0, correlationId: "first-only" }, calleeContext());
    logger.info("between invocations");
    await handler({ operation: "sleep", milliseconds: 0 }, calleeContext({ awsRequestId: "second" }));
    expect(logs.entries().map((e) => e.correlationId)).toEqual(["first-only", undefined, "second"]);
  });
});

describe("accountIdFromArn", () => {
  it("parses the account of qualified and unqualified ARNs", () => {
    expect(accountIdFromArn(CALLEE_FN_ARN)).toBe(CALLEE_ACCOUNT);
    expect(accountIdFromArn(`${CALLEE_FN_ARN}:live`)).toBe(CALLEE_ACCOUNT);
    expect(accountIdFromArn("arn:aws-cn:lambda:cn-north-1:333333333333:function:f")).toBe("333333333333");
  });
  it("returns null for anything else", () => {
    expect(accountIdFromArn("not-an-arn")).toBeNull();
    expect(accountIdFromArn("arn:aws:lambda:eu-west-1:12:function:f")).toBeNull();
    expect(accountIdFromArn(undefined)).toBeNull();
  });
});

describe("callee index.ts", () => {
  it("exports handler", async () => {
    let handler: unknown;
    await jest.isolateModulesAsync(async () => {
      ({ handler } = await import("../../lambda-src/callee/index"));
    });
    expect(typeof handler).toBe("function");
  });
});

/**
 * The handler's side of idempotency, at the unit boundary: an in-memory stand-in for the Idempotency interface (the
 * Powertools and DynamoDB side runs for real in __tests__/local/idempotency.test.ts). It stores each key's request and
 * answer, and refuses a key with another request as Powertools does, with an error it recognises as "reused".
 */
describe("callee handler, idempotent", () => {
  class KeyReused extends Error {}
  function inMemoryIdempotency(): Idempotency & { records: Map<string, { request: string; result: unknown }> } {
    const records = new Map<string, { request: string; result: unknown }>();
    return {
      records,
      wrap:
        <Request, Result>(operation: (request: Request) => Promise<Result>) =>
        async (keyed: { idempotencyKey: string; request: Request }) => {
          const request = JSON.stringify(keyed.request);
          const stored = records.get(keyed.idempotencyKey);
          if (stored && stored.request !== request) throw new KeyReused("payload differs");
          if (stored) return { result: stored.result as Result, replayed: true };
          const result = await operation(keyed.request);
          records.set(keyed.idempotencyKey, { request, result });
          return { result, replayed: false };
        },
      isKeyReused: (err) => err instanceof KeyReused,
    };
  }
  const QUOTE_REQUEST = { operation: "quote", currency: "EUR", items: [{ sku: "ABC", quantity: 1, unitPriceCents: 100 }] };
  const started = () => logs.entries().filter((e) => e.message === "operation started");

  it("runs the operation once per key and answers the repeat with the stored result, marked replayed", async () => {
    const handler = createCalleeHandler({ idempotency: inMemoryIdempotency() });
    const first = await handler({ ...QUOTE_REQUEST, idempotencyKey: "k1", correlationId: "a" }, calleeContext());
    const again = await handler({ ...QUOTE_REQUEST, idempotencyKey: "k1", correlationId: "b" }, calleeContext());
    expect(first).toMatchObject({ ok: true, correlationId: "a", idempotency: { key: "k1", replayed: false } });
    expect(again).toMatchObject({ ok: true, correlationId: "b", idempotency: { key: "k1", replayed: true } });
    expect((again as CalleeSuccess).result).toEqual((first as CalleeSuccess).result);
    // One "operation started" line: the repeat did not run it. Every line of the invocation carries the key.
    expect(started()).toEqual([expect.objectContaining({ operation: "quote", idempotencyKey: "k1", correlationId: "a" })]);
    expect(
      logs
        .entries()
        .filter((e) => e.message === "request served")
        .map((e) => e.replayed),
    ).toEqual([false, true]);
  });

  it("answers IDEMPOTENCY_KEY_REUSED, and runs nothing, for a key already used with another request", async () => {
    const handler = createCalleeHandler({ idempotency: inMemoryIdempotency() });
    await handler({ ...QUOTE_REQUEST, idempotencyKey: "k1" }, calleeContext());
    const reused = await handler({ ...QUOTE_REQUEST, currency: "USD", idempotencyKey: "k1" }, calleeContext());
    expect(reused).toMatchObject({
      ok: false,
      error: {
        code: "IDEMPOTENCY_KEY_REUSED",
        message: expect.stringContaining("idempotencyKey 'k1' was already used for a different request"),
      },
    });
    expect(started()).toHaveLength(1);
  });

  it("binds the key to the request without its correlation id and key (a replay may carry a new correlation id)", async () => {
    const idempotency = inMemoryIdempotency();
    await createCalleeHandler({ idempotency })({ ...QUOTE_REQUEST, idempotencyKey: "k1", correlationId: "x" }, calleeContext());
    expect(JSON.parse(idempotency.records.get("k1")!.request)).toEqual(QUOTE_REQUEST);
  });

  it("refuses a request without a key, naming the field, and runs nothing", async () => {
    const response = await createCalleeHandler({ idempotency: inMemoryIdempotency() })(QUOTE_REQUEST, calleeContext());
    expect(rejected(response).error.issues).toEqual([
      { path: "idempotencyKey", message: expect.stringContaining("this callee is idempotent") },
    ]);
    expect(started()).toEqual([]);
  });

  it("rethrows what else the idempotent run throws (the operation's own error, a persistence error), for Lambda to report", async () => {
    const handler = createCalleeHandler({ idempotency: inMemoryIdempotency() });
    await expect(handler({ operation: "fail", idempotencyKey: "k2" }, calleeContext())).rejects.toBeInstanceOf(DemoFailure);
    expect(logs.entries().filter((e) => e.message === "operation failed")).toHaveLength(1);
  });
});
