/**
 * The front door's per-item serialization (local/services/dynamodb/service.ts): DynamoDB applies a conditional write of
 * one item atomically, moto's threaded server does not, so the runtime runs one operation per item at a time.
 */
import { itemLockKey, KeyedMutex } from "../../../local/services/dynamodb/service";

const TABLE = { arn: "arn:aws:dynamodb:eu-west-1:222222222222:table/t", hashKey: { name: "id", type: "S" } };

describe("itemLockKey", () => {
  it("names the item of PutItem (its Item) and of GetItem, UpdateItem and DeleteItem (their Key), by table and partition key", () => {
    const k1 = `${TABLE.arn}|{"S":"k1"}`;
    expect(itemLockKey(TABLE, "PutItem", { Item: { id: { S: "k1" }, status: { S: "INPROGRESS" } } })).toBe(k1);
    for (const operation of ["GetItem", "UpdateItem", "DeleteItem"])
      expect(itemLockKey(TABLE, operation, { Key: { id: { S: "k1" } } })).toBe(k1);
    expect(itemLockKey(TABLE, "PutItem", { Item: { id: { S: "k2" } } })).not.toBe(k1);
    expect(itemLockKey({ ...TABLE, arn: `${TABLE.arn}2` }, "PutItem", { Item: { id: { S: "k1" } } })).not.toBe(k1);
  });

  it("names none for an operation on no single item, or without the partition key", () => {
    expect(itemLockKey(TABLE, "Query", { KeyConditionExpression: "id = :v" })).toBeUndefined();
    expect(itemLockKey(TABLE, "DescribeTable", {})).toBeUndefined();
    expect(itemLockKey(TABLE, "PutItem", { Item: { other: { S: "x" } } })).toBeUndefined();
    expect(itemLockKey(TABLE, "GetItem", {})).toBeUndefined();
  });
});

describe("KeyedMutex", () => {
  const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

  it("never runs two tasks of one key at once, and runs them in the order given, failures included", async () => {
    const mutex = new KeyedMutex();
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const task =
      (n: number, fails = false) =>
      async () => {
        running++;
        most = Math.max(most, running);
        await tick();
        order.push(n);
        running--;
        if (fails) throw new Error(`task ${n} failed`);
        return n;
      };
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((n) => mutex.run("item", task(n, n === 2))));
    expect(most).toBe(1);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled", "fulfilled"]);
    expect(mutex.size).toBe(0);
  });

  it("runs tasks of different keys, and tasks without a key, at once", async () => {
    const mutex = new KeyedMutex();
    let running = 0;
    let most = 0;
    const task = async () => {
      running++;
      most = Math.max(most, running);
      await tick();
      running--;
    };
    await Promise.all([mutex.run("a", task), mutex.run("b", task), mutex.run(undefined, task), mutex.run(undefined, task)]);
    expect(most).toBe(4);
  });
});
