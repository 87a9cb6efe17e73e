// What the widget's transport is handed in the browser, faked for Node:
// a small chat server behind `fetch`, timers that run only when a test says
// so, storage in a Map, and a view that writes down what it was asked to show.
// transport.js itself is loaded as it ships (its text, run in one function),
// so these tests exercise the very code in web/static/widget.js.
"use strict";

const fs = require("node:fs");
const path = require("node:path");

const SOURCE = path.join(__dirname, "..", "..", "web", "widget", "transport.js");

function loadTransport() {
  const text = fs.readFileSync(SOURCE, "utf8");
  // eslint-disable-next-line no-new-func
  return new Function('"use strict";\n' + text + "\nreturn { createTransport, Failure };")();
}

// Timers that fire only from `run`, in due order, so a test decides when "later" is.
class Clock {
  constructor() { this.now = 0; this.timers = new Map(); this.next = 1; }
  setTimeout = (fn, ms) => { const id = this.next++; this.timers.set(id, { fn, at: this.now + ms, ms }); return id; };
  clearTimeout = (id) => { this.timers.delete(id); };
  // The delays (ms) of the timers now waiting, soonest first.
  pending() { return [...this.timers.values()].sort((a, b) => a.at - b.at).map((t) => t.ms); }
  // Move time forward by `ms`, firing every timer that comes due on the way.
  async run(ms) {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.now = due[1].at;
      due[1].fn();
      await settle();
    }
    this.now = end;
  }
}

// Every promise chain the transport started has finished (the fakes answer at once).
function settle() { return new Promise((resolve) => setImmediate(resolve)); }

function response(status, json, headers = {}) {
  const get = (name) => headers[name] ?? null;
  return { ok: status >= 200 && status < 300, status, json: () => Promise.resolve(json), headers: { get } };
}

// A chat server with the API's shapes. `fail` decides per request: return a
// status to answer with that HTTP error, "network" to fail the connection,
// "lost" to handle the request but lose the answer on the way back, "hang" to
// never answer, "busy" for a 409 with Retry-After (a first try with this
// client_message_id still being handled), or nothing to answer normally.
// Like the real API, a POST with a client_message_id already seen gets the
// first answer again and stores nothing.
class Server {
  constructor() {
    this.requests = [];
    this.config = { languages: ["nl", "en"], language: "nl", origin_allowed: true, title: "Chat" };
    this.conversations = 0;
    this.messages = [];  // {id, role, text, conversation}
    this.lastId = 0;
    this.state = "bot";
    this.fail = () => undefined;
    this.hanging = [];
    this.answered = new Map();  // "conversation id" -> the first answer
  }

  add(conversation, role, text) {
    const m = { id: ++this.lastId, role, text, conversation };
    this.messages.push(m);
    return m;
  }

  fetch = (url, options = {}) => {
    const method = options.method || "GET";
    const pathOnly = url.replace(/^https:\/\/bot\.test\/api\/v1/, "");
    const body = options.body ? JSON.parse(options.body) : undefined;
    const request = { method, path: pathOnly, body, options };
    this.requests.push(request);
    const failure = this.fail(request);
    if (failure === "network") return Promise.reject(new TypeError("Failed to fetch"));
    if (failure === "lost") {
      this.answer(method, pathOnly, body);
      return Promise.reject(new TypeError("Failed to fetch"));
    }
    if (failure === "busy") {
      const error = { ok: false, error: "still being handled", status: 409 };
      return Promise.resolve(response(409, error, { "Retry-After": "1" }));
    }
    if (failure === "hang") {
      return new Promise((resolve, reject) => {
        this.hanging.push(request);
        if (options.signal) options.signal.onabort = () => reject(new Error("aborted"));
      });
    }
    if (typeof failure === "number") return Promise.resolve(response(failure, { ok: false, error: "nope", status: failure }));
    if (failure && typeof failure === "object") { // { status, headers }: e.g. a 429 with Retry-After
      return Promise.resolve(response(failure.status, { ok: false, error: "nope", status: failure.status }, failure.headers));
    }
    return Promise.resolve(this.answer(method, pathOnly, body));
  };

  answer(method, pathOnly, body) {
    if (pathOnly === "/widget-config") return response(200, this.config);
    if (method === "POST" && pathOnly === "/conversations") {
      const id = "c" + ++this.conversations;
      const hello = this.add(id, "bot", "Hoi!");
      return response(201, { conversation_id: id, state: this.state, messages: [hello], cursor: hello.id });
    }
    const m = pathOnly.match(/^\/conversations\/([^/]+)\/(messages|feedback|close)(?:\?after=(\d+))?$/);
    if (!m) return response(404, { error: "no such page" });
    const [, id, what, after] = m;
    if (id !== "c" + this.conversations) return response(404, { error: "conversation gone" });
    if (what === "feedback") return response(200, { ok: true });
    if (what === "close") { // like the API: back to the bot from waiting, else closed
      if (body.back_to_bot && this.state === "agent") return response(409, { ok: false, error: "agent", status: 409 });
      this.state = body.back_to_bot ? "bot" : "closed";
      const said = this.add(id, "bot", body.back_to_bot ? "Je wacht niet meer." : "Gesloten.");
      return response(200, { conversation_id: id, state: this.state, messages: [said], cursor: said.id });
    }
    if (method === "POST") {
      const key = body.client_message_id && id + " " + body.client_message_id;
      if (key && this.answered.has(key)) return response(200, this.answered.get(key));
      const member = this.add(id, "member", body.text || body.button);
      const reply = this.add(id, "bot", "Antwoord op " + member.text);
      const json = { conversation_id: id, state: this.state, language: this.language, member_message: member, messages: [reply], cursor: reply.id };
      if (key) this.answered.set(key, json);
      return response(200, json);
    }
    const since = after == null ? 0 : Number(after);
    const found = this.messages.filter((x) => x.conversation === id && x.id > since);
    return response(200, { conversation_id: id, state: this.state, messages: found, cursor: found.length ? found[found.length - 1].id : (after == null ? null : since) });
  }

  // The member texts the server received, in order.
  received() { return this.messages.filter((x) => x.role === "member").map((x) => x.text); }
  posts() { return this.requests.filter((r) => r.method === "POST").map((r) => r.path); }
  // The client_message_id of every message POST, in order.
  messageIds() {
    return this.requests.filter((r) => r.method === "POST" && r.path.endsWith("/messages")).map((r) => r.body.client_message_id);
  }
}

class Storage {
  constructor(initial = {}) { this.data = new Map(Object.entries(initial).map(([k, v]) => [k, JSON.stringify(v)])); }
  load = (name, fallback) => (this.data.has(name) ? JSON.parse(this.data.get(name)) : fallback);
  save = (name, value) => { if (value == null) this.data.delete(name); else this.data.set(name, JSON.stringify(value)); };
  get(name) { return this.load(name, null); }
}

// Writes down every hook call as [name, ...arguments], items by their text.
function recordingView(options = {}) {
  const calls = [];
  const view = { calls, open: options.open !== false, panel: options.panel !== false, lang: "nl" };
  const describe = (a) => (a && typeof a === "object" && ("text" in a || "button" in a) ? a.label || a.text : a);
  // Arguments left out and those given as null or undefined are written down alike.
  const given = (args) => { const a = args.slice(); while (a.length && a[a.length - 1] == null) a.pop(); return a; };
  const record = (name, result) => (...args) => { calls.push([name, ...given(args).map(describe)]); return result ? result() : undefined; };
  for (const name of ["config", "typing", "messages", "state", "forget", "notice", "alert", "hideAlert",
    "refuse", "quiet", "bubble", "pending", "sending", "sent", "notSent", "heard"]) view[name] = record(name);
  view.language = () => view.lang;
  view.isOpen = () => view.open;
  view.hasPanel = () => view.panel;
  view.named = (name) => calls.filter((c) => c[0] === name).map((c) => c.slice(1));
  return view;
}

function setUp(options = {}) {
  const { createTransport, Failure } = loadTransport();
  const clock = new Clock();
  const server = options.server || new Server();
  const storage = options.storage || new Storage();
  const view = recordingView(options.view);
  const platform = {
    api: "https://bot.test/api/v1",
    fetch: server.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    AbortController: globalThis.AbortController,
    storage: { load: storage.load, save: storage.save },
    offline: () => platform.isOffline,
    hidden: () => !!platform.isHidden,
    now: () => clock.now,
    isOffline: false,
  };
  const transport = createTransport(platform, view);
  return { transport, Failure, clock, server, storage, view, platform };
}

module.exports = { setUp, settle, Server, Storage };
