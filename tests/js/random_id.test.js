// The widget's message keys (web/widget/main.js randomId) come from crypto, never Math.random.
"use strict";
const test = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const source = fs.readFileSync(path.join(__dirname, "../../web/widget/main.js"), "utf8");
const body = source.match(/function randomId\(\) \{[\s\S]*?\n\}/)[0];

function load(crypto) {
  return new Function("window", "Math", body + "\nreturn randomId;")(
    { crypto: crypto }, { random: () => { throw new Error("Math.random used"); }, floor: Math.floor });
}

test("main.js hands randomId to the transport", () => {
  assert.match(source, /randomId: randomId/);
});

test("randomId uses crypto.randomUUID when the browser has it", () => {
  const id = load({ randomUUID: () => "uuid-1", getRandomValues: () => { throw new Error("no"); } })();
  assert.strictEqual(id, "uuid-1");
});

test("randomId falls back to crypto.getRandomValues: 32 hex characters, different each time", () => {
  const webcrypto = require("node:crypto").webcrypto;
  const randomId = load({ getRandomValues: (a) => webcrypto.getRandomValues(a) });
  const a = randomId(), b = randomId();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notStrictEqual(a, b);
});
