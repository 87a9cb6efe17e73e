// The conversation with the server: requests, the queue of messages still to
// send, the cursor for polling and the retry timer. No DOM and no browser
// global: `createTransport` is handed fetch, timers, storage and the view's
// hooks, and this file declares nothing but `Failure` and `createTransport`,
// so tests/js/transport.test.js loads it alone in Node and drives it with fakes.
//
// platform: { api, fetch, setTimeout, clearTimeout, AbortController (optional),
//             storage: { load(name, fallback), save(name, value) },
//             offline(), hidden(), randomId() (optional), now() (optional: ms, Date.now) }
// view:     the hooks in view.js (`hooks`); every one of them is about the screen.
//
// A conversation's language and place in the queue come with every answer;
// they go to the view with its state (`view.state(state, position)`,
// `view.heard(language)`).

function Failure(kind, status, message, retryAfter) {
  this.kind = kind; this.status = status; this.message = message; this.retryAfter = retryAfter;
}

function createTransport(platform, view) {
  var POLL_MS = 1500;
  var fetch = platform.fetch, setTimeout = platform.setTimeout, clearTimeout = platform.clearTimeout;
  var storage = platform.storage;
  var config = null;
  var conversationId = null, outbox = []; // from storage in restore(): its first read can take a while
  var state = "bot";
  var cursor = null;      // the highest message id fetched with GET; polls ask for newer ones
  var seen = {};          // message ids already on screen
  var newest = 0;         // the highest of them
  var epoch = 0;          // bumped when a conversation is dropped: late answers for it are ignored
  var loaded = false;     // the stored conversation's history is on screen
  var pollTimer = 0, retryTimer = 0, retryDelay = 3000, pollFailures = 0;
  var running = null, again = false;

  function request(method, path, body) {
    var controller = platform.AbortController ? new platform.AbortController() : null;
    var timer = setTimeout(function () { if (controller) controller.abort(); }, 20000);
    var options = { method: method, credentials: "omit", cache: "no-store", signal: controller && controller.signal };
    if (body) { options.headers = { "Content-Type": "application/json" }; options.body = JSON.stringify(body); }
    return fetch(platform.api + path, options).then(function (response) {
      clearTimeout(timer);
      return response.json().catch(function () { return null; }).then(function (json) {
        var retryAfter = response.headers && response.headers.get ? response.headers.get("Retry-After") : null;
        if (!response.ok) throw new Failure("http", response.status, json && json.error, retryAfter);
        return json;
      });
    }, function () {
      clearTimeout(timer);
      throw new Failure(platform.offline() ? "offline" : "network");
    });
  }
  function closePath(id) { return "/conversations/" + encodeURIComponent(id) + "/close"; }
  function messagesPath(query) {
    return "/conversations/" + encodeURIComponent(conversationId) + "/messages" + (query || "");
  }

  var configFailed = false;
  function loadConfig() {
    configFailed = false;
    return fetch(platform.api + "/widget-config", { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(useConfig)
      .catch(function () { configFailed = true; }); // unreachable: defaults now, asked again on the next sync
  }
  var configReady = loadConfig();

  function useConfig(json) {
    if (!json) return;
    config = json;
    view.config(json);
  }

  // Brings the conversation up to date: history, a new conversation if there is
  // none, then every queued message in order. One at a time; a call while one
  // runs makes it go round once more.
  function sync() {
    if (running) { again = true; return running; }
    clearTimeout(retryTimer);
    if (configFailed) configReady = loadConfig();
    running = configReady.then(function step() {
      again = false;
      return syncOnce().then(function () { if (again) return step(); });
    }).then(function () { running = null; }, function (failure) { running = null; failed(failure); });
    return running;
  }

  function syncOnce() {
    if (config && config.origin_allowed === false) throw new Failure("refused");
    var chain = Promise.resolve();
    if (conversationId && !loaded) chain = chain.then(loadHistory);
    return chain.then(function () {
      if (!conversationId && (view.isOpen() || outbox.length)) return start();
    }).then(flush).then(function () {
      view.hideAlert();
      retryDelay = 3000;
      view.typing(false);
    });
  }

  function loadHistory() {
    return request("GET", messagesPath()).then(function (r) {
      view.quiet(); // the history is not news: don't read it all out
      show(r.messages);
      cursor = r.cursor;
      loaded = true;
      dropDelivered(r.messages);
      heard(r);
      outbox.forEach(function (item) { if (!item.node) { view.bubble(item); view.pending(item); } });
    }, function (failure) {
      if (failure.kind === "http" && failure.status === 404) { forget(); return; } // gone: start afresh
      throw failure;
    });
  }

  function start() {
    var mine = epoch, body = {}, lang = view.language();
    view.typing(true);
    if (config && config.languages.indexOf(lang) >= 0) body.language = lang;
    return request("POST", "/conversations", body).then(function (r) {
      if (mine !== epoch || conversationId) return;
      conversationId = r.conversation_id;
      storage.save("conversation", conversationId);
      cursor = r.cursor;
      loaded = true;
      show(r.messages);
      heard(r);
    });
  }

  function flush() {
    if (!outbox.length || !conversationId) return Promise.resolve();
    var item = outbox[0], mine = epoch;
    view.sending(item);
    view.typing(state === "bot");
    var body = item.button ? { button: item.button } : { text: item.text };
    // The same id on every try, across reloads: the server stores the message once.
    body.client_message_id = item.id;
    return request("POST", messagesPath(), body)
      .then(function (r) {
        if (mine !== epoch) return;
        done(item);
        var id = r.member_message && r.member_message.id;
        if (id) see(id);
        view.sent(item, id);
        show(r.messages);
        heard(r);
      }, function (failure) {
        view.typing(false);
        if (mine !== epoch) return;
        if (failure.kind !== "http") { view.pending(item); throw failure; }
        var status = failure.status;
        if (status === 404) { // the conversation is gone: a new one, then send again
          forget();
          view.notice("expired");
          return start();
        }
        var busy = status === 409 && failure.retryAfter; // our first try is still being handled
        if (status === 429 || status >= 500 || busy) { view.pending(item); throw failure; }
        done(item); // 400, 409, 413: sending again would fail the same way
        view.sent(item, null);
        view.notSent(item, status === 413 ? "tooLong" : status === 409 ? "isClosed" : "stale");
        if (status === 409) setState("closed");
      })
      .then(flush);
  }

  // A message whose answer was lost (the page reloaded while it was on its way)
  // may have reached the server: if the history has it, it is not sent twice.
  function dropDelivered(messages) {
    var claimed = {};
    outbox = outbox.filter(function (item) {
      var text = item.label || item.text;
      var match = messages.filter(function (m) {
        return m.role === "member" && m.id > (item.after || 0) && m.text === text && !claimed[m.id];
      })[0];
      if (match) claimed[match.id] = 1;
      return !match;
    });
    saveOutbox();
  }

  function done() {
    outbox.shift();
    saveOutbox();
  }
  function saveOutbox() {
    storage.save("outbox", outbox.length ? outbox.map(function (i) {
      return { text: i.text, button: i.button, label: i.label, after: i.after, id: i.id };
    }) : null);
  }

  // A client_message_id: random, made once per message (the server keeps it 24 hours).
  function newId() {
    if (platform.randomId) return platform.randomId();
    var id = "";
    for (var i = 0; i < 4; i++) id += ("0000000" + Math.floor(Math.random() * 4294967296).toString(16)).slice(-8);
    return id;
  }

  function failed(failure) {
    view.typing(false);
    if (!view.hasPanel()) return; // nothing asked yet: say it when the member opens the chat
    if (failure.kind === "refused") { view.refuse(); return; }
    var slow = failure.status === 429;
    var text = failure.kind === "offline" ? "offline"
      : failure.kind === "network" ? "network"
      : slow ? (failure.retryAfter ? "slow" : "busy")
      : failure.status === 413 ? "tooLong"
      : "server";
    view.alert(text, failure.kind !== "offline", text === "slow" ? { seconds: waitSeconds(failure, 0) } : null);
    // Offline: the browser's "online" event sends the queue. Rate-limited: again when the
    // server said (Retry-After). Otherwise try again by itself, slower each time.
    if (slow && failure.retryAfter) {
      retryTimer = setTimeout(sync, waitSeconds(failure, 0) * 1000);
    } else if (failure.kind !== "offline") {
      retryTimer = setTimeout(sync, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    }
  }

  // Retry-After in whole seconds (at least 1), or `fallback` without one.
  function waitSeconds(failure, fallback) {
    var seconds = parseInt(failure.retryAfter, 10);
    return seconds > 0 ? Math.min(seconds, 3600) : fallback;
  }

  // Only messages not on screen yet go to the view, in the order they came.
  function show(messages, news) {
    var fresh = (messages || []).filter(function (m) {
      if (seen[m.id]) return false;
      see(m.id);
      return true;
    });
    view.messages(fresh, news);
  }
  function see(id) {
    seen[id] = 1;
    if (id > newest) newest = id;
  }

  // What every answer says besides its messages: the state, the place in the queue, the language.
  function heard(r) {
    if (r.language) view.heard(r.language);
    setState(r.state, r.queue_position);
  }

  function setState(next, position) {
    state = next || "bot";
    view.state(state, position);
    clearTimeout(pollTimer);
    if (state === "waiting" || state === "agent") pollTimer = setTimeout(poll, POLL_MS);
  }

  // A hidden page asks for news less often, but still asks: a member who waits
  // in another tab is still there (the server ends waits nobody asks about).
  // By the clock, not by ticks: browsers slow a hidden page's timers to one a minute.
  var HIDDEN_MS = 30000, askedAt = 0;
  var now = platform.now || function () { return Date.now(); };
  function poll() {
    if (!conversationId || (platform.hidden() && now() - askedAt < HIDDEN_MS)) {
      pollTimer = setTimeout(poll, POLL_MS);
      return;
    }
    askedAt = now();
    var after = cursor == null ? "" : "?after=" + cursor, mine = epoch;
    request("GET", messagesPath(after)).then(function (r) {
      if (mine !== epoch) return;
      pollFailures = 0;
      if (r.cursor != null) cursor = r.cursor;
      show(r.messages, true);
      if (!outbox.length) view.hideAlert();
      heard(r);
    }, function (failure) {
      if (mine !== epoch) return;
      if (failure.kind === "http" && failure.status === 404) { forget(); return; }
      if (failure.kind === "http" && failure.status === 429) { // asked too often: wait as told
        pollTimer = setTimeout(poll, waitSeconds(failure, 5) * 1000);
        return;
      }
      // One missed poll is not worth a word; several in a row are.
      if (++pollFailures >= 3 && view.hasPanel()) view.alert(failure.kind === "offline" ? "offline" : "network", true);
      pollTimer = setTimeout(poll, POLL_MS);
    });
  }

  function forget() {
    epoch += 1;
    clearTimeout(pollTimer);
    conversationId = null;
    storage.save("conversation", null);
    loaded = false;
    cursor = null;
    seen = {};
    view.forget();
    setState("bot");
  }

  return {
    sync: sync,
    failed: failed,
    // "Try again": now, and if that fails too, the next wait starts short again.
    retry: function () { retryDelay = 3000; sync(); },
    state: function () { return state; },
    // The conversation and the queue from the last page view, if any: true when there is something to catch up on.
    restore: function () {
      conversationId = storage.load("conversation", null);
      outbox = storage.load("outbox", []);
      // A queue saved by an older widget has no ids yet: give them one now, kept from here on.
      if (outbox.some(function (item) { return !item.id; })) {
        outbox.forEach(function (item) { if (!item.id) item.id = newId(); });
        saveOutbox();
      }
      return !!(conversationId || outbox.length);
    },
    // Whether opening the chat has to fetch anything.
    stale: function () { return !loaded || !conversationId; },
    // Whether a conversation from an earlier page view still has to be drawn.
    restoring: function () { return !!conversationId && !loaded; },
    send: function (item) {
      view.bubble(item);
      item.after = newest;
      item.id = newId();
      outbox.push(item);
      saveOutbox();
      if (platform.offline()) view.pending(item);
      sync();
    },
    // "New conversation": the old one is closed (it leaves the queue), the queue and the
    // conversation are dropped, and the next sync starts afresh.
    drop: function () {
      if (conversationId) {
        request("POST", closePath(conversationId), {}).catch(function () {
          // Unreachable now: the server ends a wait nobody asks about by itself.
        });
      }
      outbox = [];
      saveOutbox();
      forget();
    },
    // "Stop waiting": out of the queue, and the bot answers again.
    backToBot: function () {
      if (!conversationId) return Promise.resolve();
      var mine = epoch;
      return request("POST", closePath(conversationId), { back_to_bot: true }).then(function (r) {
        if (mine !== epoch) return;
        show(r.messages);
        heard(r);
      }, function (failure) {
        if (mine !== epoch) return;
        if (failure.kind === "http" && failure.status === 409) { poll(); return; } // an agent came first
        failed(failure);
      });
    },
    online: function () { if (outbox.length || (view.isOpen() && !loaded)) sync(); },
    // The page is in view again: while a person may be answering, ask now rather than at the next tick.
    visible: function () {
      if ((state === "waiting" || state === "agent") && conversationId) {
        clearTimeout(pollTimer);
        poll();
      }
    },
    feedback: function (messageId, helpful) {
      return request("POST", "/conversations/" + encodeURIComponent(conversationId) + "/feedback",
        { message_id: messageId, helpful: helpful });
    }
  };
}
