import { CalleeConfigError, idempotencySettingsFrom } from "../../lambda-src/callee/idempotency-settings";

describe("idempotencySettingsFrom (the callee's idempotency environment)", () => {
  it("is off without IDEMPOTENCY_TABLE_NAME, as in the default stacks", () => {
    expect(idempotencySettingsFrom({})).toBeUndefined();
    expect(idempotencySettingsFrom({ IDEMPOTENCY_TABLE_NAME: "" })).toBeUndefined();
  });

  it("takes the table and Powertools' default expiry of an hour, or the given one", () => {
    expect(idempotencySettingsFrom({ IDEMPOTENCY_TABLE_NAME: "xacct-demo-callee-idempotency" })).toEqual({
      tableName: "xacct-demo-callee-idempotency",
      expiresAfterSeconds: 3600,
    });
    expect(idempotencySettingsFrom({ IDEMPOTENCY_TABLE_NAME: "t.1_x", IDEMPOTENCY_EXPIRES_AFTER_SECONDS: "7200" })).toEqual({
      tableName: "t.1_x",
      expiresAfterSeconds: 7200,
    });
  });

  it.each([
    [{ IDEMPOTENCY_EXPIRES_AFTER_SECONDS: "3600" }, /IDEMPOTENCY_TABLE_NAME is not/],
    [{ IDEMPOTENCY_TABLE_NAME: "no spaces allowed" }, /is not a DynamoDB table name/],
    [{ IDEMPOTENCY_TABLE_NAME: "t1x", IDEMPOTENCY_EXPIRES_AFTER_SECONDS: "3599" }, /from 3600 to 2592000, got '3599'/],
    [{ IDEMPOTENCY_TABLE_NAME: "t1x", IDEMPOTENCY_EXPIRES_AFTER_SECONDS: "1.5" }, /whole number/],
    [{ IDEMPOTENCY_TABLE_NAME: "t1x", IDEMPOTENCY_EXPIRES_AFTER_SECONDS: "2592001" }, /got '2592001'/],
  ])("refuses %j at start with a message naming the variable and the fix", (env, message) => {
    expect(() => idempotencySettingsFrom(env)).toThrow(CalleeConfigError);
    expect(() => idempotencySettingsFrom(env)).toThrow(message);
  });
});
