// The widget's transport (web/widget/transport.js) against a fake server and
// fake timers: the queue of messages, retries, polling with a cursor, and
// what each kind of failure leads to. Run with `node --test tests/js/`;
// tests/test_widget_sources.py runs them under pytest when Node is there.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { setUp, settle, Storage } = require("./fakes");

async function started(options) {
  const t = setUp(options);
  t.transport.sync();
  await settle();
  return t;
}

test("messages sent while the conversation is still starting go out one by one, in order", async () => {
  const { transport, server, storage, view } = setUp();
  transport.send({ text: "eerste" });
  transport.send({ text: "tweede" });
  transport.send({ text: "derde" });
  assert.deepEqual(storage.get("outbox").map((i) => i.text), ["eerste", "tweede", "derde"]);
  await settle();
  assert.deepEqual(server.posts(), [
    "/conversations", "/conversations/c1/messages", "/conversations/c1/messages", "/conversations/c1/messages",
  ]);
  assert.deepEqual(server.received(), ["eerste", "tweede", "derde"]);
  assert.equal(storage.get("outbox"), null);
  assert.equal(storage.get("conversation"), "c1");
  assert.deepEqual(view.named("sent").map((c) => c[0]), ["eerste", "tweede", "derde"]);
});

test("offline, the queue is kept in storage and the online event sends it in order", async () => {
  const { transport, server, storage, view, platform, clock } = await started();
  platform.isOffline = true;
  server.fail = (r) => (r.method === "POST" ? "network" : undefined);
  transport.send({ text: "een" });
  await settle();
  transport.send({ text: "twee" });
  await settle();
  assert.deepEqual(view.named("alert").at(-1), ["offline", false]);  // no retry button: the browser tells us
  assert.deepEqual(clock.pending(), []);                             // and no timer of our own
  assert.deepEqual(storage.get("outbox").map((i) => i.text), ["een", "twee"]);
  assert.ok(view.named("pending").some((c) => c[0] === "twee"));

  platform.isOffline = false;
  server.fail = () => undefined;
  transport.online();
  await settle();
  assert.deepEqual(server.received(), ["een", "twee"]);
  assert.equal(storage.get("outbox"), null);
  assert.deepEqual(view.named("hideAlert").length > 0, true);
});

test("a queue left by the last page view is sent after its history is shown", async () => {
  const server = (await started()).server;
  // The previous page view: a conversation and two messages that never left.
  const storage = new Storage({
    conversation: "c1",
    outbox: [{ text: "nog een vraag", after: 1 }, { button: "opzeggen", label: "Opzeggen", after: 1 }],
  });
  const { transport, view } = setUp({ server, storage, view: { open: false } });
  assert.equal(transport.restore(), true);
  transport.sync();
  await settle();
  assert.deepEqual(server.received(), ["nog een vraag", "opzeggen"]);
  const order = view.calls.map((c) => c[0]);
  assert.ok(order.indexOf("quiet") < order.indexOf("sending"));
  assert.equal(storage.get("outbox"), null);
});

test("a queued message the server already has (the answer was lost in a reload) is not sent twice", async () => {
  const { server } = await started();
  server.add("c1", "member", "al verstuurd");
  const storage = new Storage({
    conversation: "c1",
    outbox: [{ text: "al verstuurd", after: 1 }, { text: "nog niet", after: 1 }],
  });
  const { transport } = setUp({ server, storage });
  transport.restore();
  transport.sync();
  await settle();
  assert.deepEqual(server.received(), ["al verstuurd", "nog niet"]);
});

test("a network failure keeps the message and tries again by itself, waiting longer each time", async () => {
  const { transport, server, clock, view, storage } = await started();
  server.fail = (r) => (r.method === "POST" ? "network" : undefined);
  transport.send({ text: "hallo" });
  await settle();
  assert.deepEqual(view.named("alert").at(-1), ["network", true]);
  assert.deepEqual(view.named("pending").at(-1), ["hallo"]);
  const waits = [];
  for (let i = 0; i < 6; i++) {
    waits.push(clock.pending()[0]);
    await clock.run(clock.pending()[0]);
  }
  assert.deepEqual(waits, [3000, 6000, 12000, 24000, 30000, 30000]);
  assert.deepEqual(storage.get("outbox").map((i) => i.text), ["hallo"]);

  server.fail = () => undefined;
  await clock.run(30000);
  assert.deepEqual(server.received(), ["hallo"]);
  assert.deepEqual(clock.pending(), []);
});

test("'try again' sends at once and starts the next wait short again", async () => {
  const { transport, server, clock } = await started();
  server.fail = (r) => (r.method === "POST" ? "network" : undefined);
  transport.send({ text: "hallo" });
  await settle();
  await clock.run(3000);
  assert.deepEqual(clock.pending(), [6000]);
  transport.retry();
  await settle();
  assert.deepEqual(clock.pending(), [3000]);  // the automatic retry was replaced, not added to
  server.fail = () => undefined;
  transport.retry();
  await settle();
  assert.deepEqual(server.received(), ["hallo"]);
  assert.deepEqual(clock.pending(), []);
});

test("busy and server errors keep the message queued and say so; the queue waits behind it", async () => {
  for (const [status, says] of [[429, "busy"], [500, "server"], [503, "server"]]) {
    const { transport, server, view, storage } = await started();
    server.fail = (r) => (r.method === "POST" ? status : undefined);
    transport.send({ text: "eerste" });
    transport.send({ text: "tweede" });
    await settle();
    assert.deepEqual(view.named("alert").at(-1), [says, true], `status ${status}`);
    assert.deepEqual(view.named("notSent"), []);
    assert.deepEqual(storage.get("outbox").map((i) => i.text), ["eerste", "tweede"]);
    assert.equal(server.requests.filter((r) => r.path.endsWith("/messages")).length, 1, "the second waits its turn");
  }
});

test("refused messages (400, 413) are not sent again, say why, and the next one goes on", async () => {
  for (const [status, why] of [[400, "stale"], [413, "tooLong"]]) {
    const { transport, server, view, storage } = await started();
    server.fail = (r) => (r.method === "POST" && r.body.text === "fout" ? status : undefined);
    transport.send({ text: "fout" });
    transport.send({ text: "goed" });
    await settle();
    assert.deepEqual(view.named("notSent"), [["fout", why]], `status ${status}`);
    assert.deepEqual(server.received(), ["goed"]);
    assert.equal(storage.get("outbox"), null);
    assert.deepEqual(view.named("alert"), []);
  }
});

test("a closed conversation (409) refuses the queue and the widget shows it closed", async () => {
  const { transport, server, view, storage } = await started();
  server.fail = (r) => (r.method === "POST" && r.path.endsWith("/messages") ? 409 : undefined);
  transport.send({ text: "een" });
  transport.send({ text: "twee" });
  await settle();
  assert.deepEqual(view.named("notSent"), [["een", "isClosed"], ["twee", "isClosed"]]);
  assert.equal(transport.state(), "closed");
  assert.deepEqual(view.named("state").at(-1), ["closed"]);
  assert.equal(storage.get("outbox"), null);
});

test("a conversation the server no longer knows is replaced, and the message sent in the new one", async () => {
  const { transport, server, view, storage } = await started();
  server.conversations += 1;  // the server forgot c1
  transport.send({ text: "ben je er nog?" });
  await settle();
  assert.deepEqual(view.named("notice"), [["expired"]]);
  assert.equal(storage.get("conversation"), "c3");
  assert.deepEqual(server.messages.filter((m) => m.role === "member").map((m) => [m.conversation, m.text]), [["c3", "ben je er nog?"]]);
});

test("on a site that is not allowed nothing is sent and the member is told once", async () => {
  const { Server } = require("./fakes");
  const server = new Server();
  server.config.origin_allowed = false;
  const { transport, view, clock } = setUp({ server });
  transport.send({ text: "hallo" });
  await settle();
  assert.deepEqual(server.posts(), []);
  assert.equal(view.named("refuse").length, 1);
  assert.deepEqual(clock.pending(), []);
});

test("without a panel yet a failure is not shown and not retried: opening the chat asks again", async () => {
  const { transport, server, view, clock } = setUp({ view: { panel: false, open: false } });
  server.fail = () => "network";
  transport.sync();
  await settle();
  assert.deepEqual(view.named("alert"), []);
  assert.deepEqual(clock.pending(), []);
});

test("while waiting for a person the widget polls with the cursor, and shows each message once", async () => {
  const server = new (require("./fakes").Server)();
  server.state = "waiting";
  const { transport, clock, view } = await started({ server });
  assert.deepEqual(clock.pending(), [1500]);
  const greeting = server.messages[0].id;

  await clock.run(1500);
  assert.equal(server.requests.at(-1).path, `/conversations/c1/messages?after=${greeting}`);

  server.add("c1", "agent", "Ik ben er!");
  server.add("c1", "agent", "Waarmee kan ik helpen?");
  await clock.run(1500);
  assert.equal(server.requests.at(-1).path, `/conversations/c1/messages?after=${greeting}`);
  await clock.run(1500);
  assert.equal(server.requests.at(-1).path, `/conversations/c1/messages?after=${server.lastId}`);

  const shown = view.named("messages").flatMap(([messages]) => messages.map((m) => m.text));
  assert.deepEqual(shown, ["Hoi!", "Ik ben er!", "Waarmee kan ik helpen?"]);
  assert.ok(view.named("messages").slice(1).every(([, news]) => news === true), "polled messages are news");

  server.state = "bot";  // the agent closed the handoff: polling stops
  await clock.run(1500);
  assert.deepEqual(clock.pending(), []);
});

test("one failed poll is quiet; three in a row are shown; polling goes on", async () => {
  const server = new (require("./fakes").Server)();
  server.state = "waiting";
  const { clock, view } = await started({ server });
  server.fail = (r) => (r.method === "GET" ? "network" : undefined);
  await clock.run(1500);
  await clock.run(1500);
  assert.deepEqual(view.named("alert"), []);
  await clock.run(1500);
  assert.deepEqual(view.named("alert"), [["network", true]]);
  assert.deepEqual(clock.pending(), [1500]);
  server.fail = () => undefined;
  await clock.run(1500);
  assert.ok(view.named("hideAlert").length > 0);
});

test("a poll that finds the conversation gone forgets it and stops polling", async () => {
  const server = new (require("./fakes").Server)();
  server.state = "waiting";
  const { transport, clock, storage, view } = await started({ server });
  server.conversations += 1;
  await clock.run(1500);
  assert.equal(storage.get("conversation"), null);
  assert.equal(transport.state(), "bot");
  assert.equal(view.named("forget").length, 1);
  assert.deepEqual(clock.pending(), []);
});

test("a request that hangs is given up after 20 seconds and retried", async () => {
  const { transport, server, clock, view } = await started();
  server.fail = (r) => (r.method === "POST" ? "hang" : undefined);
  transport.send({ text: "hallo" });
  await settle();
  assert.deepEqual(clock.pending(), [20000]);
  await clock.run(20000);
  assert.deepEqual(view.named("alert").at(-1), ["network", true]);
  assert.deepEqual(clock.pending(), [3000]);
});

test("a new conversation drops the queue and the old conversation", async () => {
  const { transport, server, storage } = await started();
  server.fail = (r) => (r.method === "POST" && r.path.endsWith("/messages") ? "network" : undefined);
  transport.send({ text: "weg" });
  await settle();
  transport.drop();
  assert.equal(storage.get("outbox"), null);
  assert.equal(storage.get("conversation"), null);
  server.fail = () => undefined;
  transport.sync();
  await settle();
  assert.equal(storage.get("conversation"), "c2");
  assert.deepEqual(server.received(), []);
});

test("a message whose answer was lost is sent again with the same client_message_id and stored once", async () => {
  const { transport, server, clock, storage } = await started();
  let tries = 0;
  server.fail = (r) => (r.method === "POST" && r.path.endsWith("/messages") && ++tries === 1 ? "lost" : undefined);
  transport.send({ text: "hallo" });
  await settle();
  assert.deepEqual(server.received(), ["hallo"]);               // the server has it, the widget doesn't know
  assert.deepEqual(storage.get("outbox").map((i) => i.text), ["hallo"]);
  await clock.run(clock.pending()[0]);
  const ids = server.messageIds();
  assert.equal(ids.length, 2);
  assert.ok(ids[0] && ids[0].length >= 16);
  assert.equal(ids[1], ids[0]);
  assert.deepEqual(server.received(), ["hallo"]);               // stored once
  assert.equal(storage.get("outbox"), null);
});

test("each message has its own client_message_id", async () => {
  const { transport, server } = await started();
  transport.send({ text: "een" });
  transport.send({ button: "opzeggen", label: "Opzeggen" });
  await settle();
  const ids = server.messageIds();
  assert.equal(ids.length, 2);
  assert.notEqual(ids[0], ids[1]);
});

test("a queued message keeps its client_message_id across a reload", async () => {
  const first = await started();
  first.platform.isOffline = true;
  first.server.fail = (r) => (r.method === "POST" ? "network" : undefined);
  first.transport.send({ text: "offline gestuurd" });
  await settle();
  const [saved] = first.storage.get("outbox");
  assert.ok(saved.id);

  // The page reloads: a new transport on the same storage, now online.
  first.server.fail = () => undefined;
  const { transport, server } = setUp({ server: first.server, storage: first.storage });
  assert.equal(transport.restore(), true);
  transport.sync();
  await settle();
  assert.deepEqual(server.messageIds().filter(Boolean).at(-1), saved.id);
  assert.deepEqual(server.received(), ["offline gestuurd"]);
});

test("a queue saved by an older widget gets ids once, and keeps them on the next reload", async () => {
  const { server } = await started();
  const storage = new Storage({ conversation: "c1", outbox: [{ text: "oud", after: 1 }] });
  const offline = setUp({ server, storage });
  offline.platform.isOffline = true;
  server.fail = (r) => (r.method === "POST" ? "network" : undefined);
  offline.transport.restore();
  const id = storage.get("outbox")[0].id;
  assert.ok(id);

  server.fail = () => undefined;
  const { transport } = setUp({ server, storage });
  transport.restore();
  transport.sync();
  await settle();
  assert.equal(server.messageIds().at(-1), id);
});

test("a 409 with Retry-After (the first try is still being handled) keeps the message and asks again", async () => {
  const { transport, server, clock, storage, view } = await started();
  let tries = 0;
  server.fail = (r) => (r.method === "POST" && r.path.endsWith("/messages") && ++tries === 1 ? "busy" : undefined);
  transport.send({ text: "hallo" });
  await settle();
  assert.deepEqual(view.named("notSent"), []);
  assert.equal(transport.state(), "bot");
  assert.deepEqual(storage.get("outbox").map((i) => i.text), ["hallo"]);
  await clock.run(clock.pending()[0]);
  assert.deepEqual(server.received(), ["hallo"]);
  assert.equal(storage.get("outbox"), null);
});
