/* The agent console's live parts: the queue and the transcript refresh themselves,
 * new waiting conversations are highlighted (and a short tone plays), presence is
 * kept alive, and canned replies are searched from the bot's answers.
 * Everything here is an enhancement: every action also works as a plain form. */
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  // The words of this script in the page's language, from the template's JSON block.
  var text = {};
  try { text = JSON.parse(document.getElementById("console-text").textContent); } catch (e) { /* English below */ }
  function t(key, fallback) { return text[key] || fallback; }
  function label(group, value) { return (text[group] && text[group][value]) || value; }
  // Times in the viewer's timezone, like the server's pages ("12:24", not "11:24 UTC").
  function localTime(iso) {
    try {
      return new Date(iso).toLocaleTimeString(document.documentElement.lang || "nl", {
        hour: "2-digit", minute: "2-digit", timeZone: body.dataset.timezone || undefined
      });
    } catch (e) { return iso.slice(11, 16); }
  }
  var QUEUE_EVERY = 3000, CONVERSATION_EVERY = 1500, PRESENCE_EVERY = 30000;

  function getJSON(url) {
    return fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); });
  }
  function postJSON(url, data) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data)
    });
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function announce(text) {
    var region = document.getElementById("announce");
    if (region) region.textContent = text;
  }
  function chime() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      var ctx = new Ctx(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.05;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.15);
    } catch (e) { /* no sound is fine; the highlight is the cue */ }
  }

  // -- the queue, on every console page (the count in the top bar) --------------------
  var known = null;
  var baseTitle = document.title;
  function entryNode(e, fresh) {
    var li = el("li", "entry" + (fresh ? " new" : ""));
    li.dataset.id = e.conversation_id;
    var a = el("a"); a.href = e.url;
    a.appendChild(el("span", "question", e.question || t("no_question", "(no question)")));
    li.appendChild(a);
    var meta = el("span", "meta");
    meta.appendChild(el("span", "badge", e.team)); meta.appendChild(document.createTextNode(" "));
    meta.appendChild(el("span", "badge", e.language));
    meta.appendChild(document.createTextNode(" " + t("waiting", "waiting") + " "));
    meta.appendChild(el("span", "since", e.waiting));
    li.appendChild(meta);
    return li;
  }
  function refreshQueue() {
    getJSON(body.dataset.queueUrl).then(function (data) {
      var ids = data.waiting.map(function (e) { return e.conversation_id; });
      var fresh = known === null ? [] : ids.filter(function (id) { return known.indexOf(id) < 0; });
      known = ids;
      var count = document.getElementById("queue-count");
      if (count) count.textContent = ids.length ? String(ids.length) : "";
      document.title = (ids.length ? "(" + ids.length + ") " : "") + baseTitle;
      if (fresh.length) {
        chime();
        announce(fresh.length === 1 ? t("new_one", "A new conversation is waiting.")
          : t("new_many", "{count} new conversations are waiting.").replace("{count}", function () { return String(fresh.length); }));
      }
      presence = data.presence || "";  // what the server says: it survives a reload and times out
      if (body.dataset.page !== "queue") return;
      var status = document.getElementById("presence-status");
      if (status && data.presence) {
        status.textContent = label("presence", data.presence);
        status.className = "presence-" + data.presence;
      }
      var lists = document.querySelectorAll("#waiting ol[data-team]");
      Array.prototype.forEach.call(lists, function (list) {
        var team = list.dataset.team;
        var entries = data.waiting.filter(function (e) { return e.team === team; });
        var stillNew = {};
        Array.prototype.forEach.call(list.querySelectorAll(".entry.new"), function (n) { stillNew[n.dataset.id] = true; });
        list.textContent = "";
        entries.forEach(function (e) {
          list.appendChild(entryNode(e, fresh.indexOf(e.conversation_id) >= 0 || stillNew[e.conversation_id]));
        });
        var empty = document.querySelector('[data-team-empty="' + team + '"]');
        if (empty) empty.hidden = entries.length > 0;
        var badge = document.querySelector('[data-team-count="' + team + '"]');
        if (badge) badge.textContent = String(entries.length);
      });
    }).catch(function () { /* the next poll tries again */ });
  }
  refreshQueue();
  setInterval(refreshQueue, QUEUE_EVERY);

  // -- presence: a heartbeat while the console is open and the agent chose Online -------
  // Signing in or opening a page never makes an agent online: only the Online button
  // does. The server remembers the choice (so a reload keeps it) and counts an agent
  // not heard from for its timeout as away (the queue page says how long).
  var presence = body.dataset.presence || "";
  function beat() {
    if (presence !== "online") return;
    postJSON(body.dataset.presenceUrl, { status: "online" }).catch(function () {});
  }
  setInterval(beat, PRESENCE_EVERY);

  // -- a conversation: new messages without a reload -----------------------------------
  if (body.dataset.page === "conversation") {
    var transcript = document.getElementById("transcript");
    var lastId = body.dataset.lastId || "";
    var state = body.dataset.state;
    var refreshConversation = function () {
      var url = body.dataset.conversationUrl + (lastId ? "?after=" + lastId : "");
      getJSON(url).then(function (data) {
        data.messages.forEach(function (m) {
          if (transcript.querySelector('[data-id="' + m.id + '"]')) return;
          var li = el("li", "msg " + m.role + " fresh");
          li.dataset.id = m.id;
          li.appendChild(el("span", "who", label("roles", m.role)));
          var bubble = el("div", "bubble");
          if (m.html) bubble.innerHTML = m.html; else bubble.textContent = m.text; // html is sanitized server-side
          li.appendChild(bubble);
          li.appendChild(el("time", "", localTime(m.created_at)));
          transcript.appendChild(li);
          lastId = String(m.id);
          if (m.role === "member") announce(t("member_wrote", "The member wrote: {text}").replace("{text}", function () { return m.text; }));
        });
        if (data.state !== state) document.getElementById("changed").hidden = false;
      }).catch(function () {});
    };
    setInterval(refreshConversation, CONVERSATION_EVERY);

    var search = document.getElementById("canned-search");
    var results = document.getElementById("canned-results");
    var reply = document.getElementById("reply");
    if (search && results && reply) {
      var timer = null;
      var find = function () {
        var url = body.dataset.answersUrl + "?language=" + encodeURIComponent(body.dataset.language) +
          "&q=" + encodeURIComponent(search.value);
        getJSON(url).then(function (data) {
          results.textContent = "";
          data.answers.forEach(function (a) {
            var li = el("li");
            li.appendChild(el("strong", "", a.title));
            // Shown as the member will see it (sanitized on the server), not as raw Markdown.
            var shown = el("div", "meta answer-preview");
            shown.innerHTML = a.html;
            li.appendChild(shown);
            var use = el("button", "use", t("insert", "Insert"));
            use.type = "button";
            use.addEventListener("click", function () {
              reply.value = (reply.value ? reply.value + "\n\n" : "") + a.answer.trim();
              reply.focus();
            });
            li.appendChild(use);
            results.appendChild(li);
          });
        }).catch(function () {});
      };
      search.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(find, 200); });
    }
  }
})();
