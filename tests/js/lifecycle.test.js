// The widget's transport (web/widget/transport.js) at the end of a wait: back to
// the bot, a new conversation that closes the old one, a kind 429 that waits as
// long as the server says, a hidden page that still says it is there, and the
// conversation's language and queue place handed to the view. Run with `node --test tests/js/`.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { setUp, settle } = require("./fakes");

async function waiting(options) {
  const t = setUp(options);
  t.transport.sync();
  await settle();
  t.server.state = "waiting";
  t.transport.send({ text: "Ik wil een medewerker spreken" });
  await settle();
  return t;
}

test("back to the bot posts back_to_bot, shows the bot's words and stops polling", async () => {
  const { transport, server, view, clock } = await waiting();
  assert.equal(transport.state(), "waiting");
  assert.deepEqual(clock.pending(), [1500]); // polling while waiting
  await transport.backToBot();
  const close = server.requests.filter((r) => r.path === "/conversations/c1/close");
  assert.deepEqual(close.map((r) => [r.method, r.body]), [["POST", { back_to_bot: true }]]);
  assert.equal(transport.state(), "bot");
  assert.deepEqual(view.named("state").at(-1), ["bot"]);
  assert.ok(view.named("messages").flat(2).some((m) => m && m.text === "Je wacht niet meer."));
  assert.deepEqual(clock.pending(), []); // the bot answers: nothing to poll for
});

test("back to the bot after an agent came first asks for news instead of failing", async () => {
  const { transport, server, view } = await waiting();
  server.state = "agent";
  await transport.backToBot();
  await settle();
  assert.equal(transport.state(), "agent");
  assert.deepEqual(view.named("alert"), []);
});

test("a new conversation closes the old one, so it leaves the queue", async () => {
  const { transport, server, storage } = await waiting();
  transport.drop();
  await settle();
  const close = server.requests.filter((r) => r.path.endsWith("/close"));
  assert.deepEqual(close.map((r) => [r.path, r.body]), [["/conversations/c1/close", {}]]);
  assert.equal(storage.get("conversation"), null);
});

test("a new conversation while the server is unreachable still starts afresh", async () => {
  const { transport, server, storage } = await waiting();
  server.fail = (r) => (r.path.endsWith("/close") ? "network" : undefined);
  transport.drop();
  await settle();
  assert.equal(storage.get("conversation"), null);
});

test("a 429 with Retry-After says how long to wait, keeps the message and sends it then", async () => {
  const { transport, server, view, clock } = setUp();
  transport.sync();
  await settle();
  server.fail = (r) => (r.method === "POST" ? { status: 429, headers: { "Retry-After": "30" } } : undefined);
  transport.send({ text: "nog een vraag" });
  await settle();
  assert.deepEqual(view.named("alert").at(-1), ["slow", true, { seconds: 30 }]);
  assert.deepEqual(clock.pending(), [30000]);
  server.fail = () => undefined;
  await clock.run(29000);
  assert.deepEqual(server.received(), []);
  await clock.run(1000);
  assert.deepEqual(server.received(), ["nog een vraag"]);
});

test("a 429 without Retry-After is the general busy message", async () => {
  const { transport, server, view } = setUp();
  transport.sync();
  await settle();
  server.fail = (r) => (r.method === "POST" ? 429 : undefined);
  transport.send({ text: "vraag" });
  await settle();
  assert.deepEqual(view.named("alert").at(-1), ["busy", true]);
});

test("a rate-limited poll waits as told, without an alert", async () => {
  const { server, clock, view } = await waiting();
  server.fail = (r) => (r.method === "GET" ? { status: 429, headers: { "Retry-After": "12" } } : undefined);
  await clock.run(1500);
  assert.deepEqual(clock.pending(), [12000]);
  assert.deepEqual(view.named("alert"), []);
});

test("a hidden page still asks for news now and then, so a waiting member is not abandoned", async () => {
  const { server, clock, platform } = await waiting();
  platform.isHidden = true;
  const polls = () => server.requests.filter((r) => r.method === "GET" && r.path.includes("/messages")).length;
  const before = polls();
  await clock.run(28500);
  assert.equal(polls(), before);
  await clock.run(3000);
  assert.equal(polls(), before + 1);
  await clock.run(30000);
  assert.equal(polls(), before + 2);
});

test("the conversation's language and place in the queue go to the view", async () => {
  const { transport, server, view, clock } = setUp();
  transport.sync();
  await settle();
  server.language = "en";
  transport.send({ text: "How much is the membership?" });
  await settle();
  assert.deepEqual(view.named("heard").at(-1), ["en"]);
  const queued = server.answer.bind(server);
  server.answer = (method, path, body) => {
    const r = queued(method, path, body);
    return { ...r, json: () => r.json().then((j) => ({ ...j, state: "waiting", queue_position: 2 })) };
  };
  transport.send({ text: "a person please" });
  await settle();
  assert.deepEqual(view.named("state").at(-1), ["waiting", 2]);
  await clock.run(0);
});
