// What the member sees and does: the launcher, the panel, the messages, the
// alerts. The conversation itself (its id, the queue, the cursor) is the
// transport's: it calls the `hooks` at the end of this file when something is
// to be shown, and the member's actions call the transport.
//
// Declarations only; main.js decides when the launcher is mounted. Names from
// the other parts: TEXTS, pickLanguage and fill (texts.js), ICON and CSS
// (style.js), and from main.js `data` (the script tag's data-* attributes),
// `base`, `KEY` and `transport`.

// -- small helpers -----------------------------------------------------------

function el(tag, cls, text) {
  var node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text != null) node.textContent = text;
  return node;
}
function button(cls, label, onClick, icon) {
  var b = el("button", cls);
  b.type = "button";
  if (icon) { b.innerHTML = ICON[icon]; b.setAttribute("aria-label", label); b.title = label; }
  else b.textContent = label;
  b.addEventListener("click", onClick);
  return b;
}
function safeHref(url) { return /^(https?:|mailto:|tel:)/i.test(url || ""); }

var ALLOWED = { P: 1, BR: 1, STRONG: 1, EM: 1, A: 1, UL: 1, OL: 1, LI: 1, CODE: 1 };
// The server's sanitized HTML, parsed in an inert <template> (nothing loads or
// runs there) and checked once more against the server's allow-list.
function safeFragment(html) {
  var tpl = document.createElement("template");
  tpl.innerHTML = html;
  clean(tpl.content);
  return tpl.content;
}
function clean(parent) {
  var kids = Array.prototype.slice.call(parent.childNodes);
  for (var i = 0; i < kids.length; i++) {
    var node = kids[i];
    if (node.nodeType === 3) continue;
    if (node.nodeType !== 1) { parent.removeChild(node); continue; }
    if (!ALLOWED[node.tagName]) {
      if (/^(SCRIPT|STYLE|TEMPLATE|NOSCRIPT|IFRAME|OBJECT|EMBED|SVG|MATH)$/.test(node.tagName)) parent.removeChild(node);
      else parent.replaceChild(document.createTextNode(node.textContent), node);
      continue;
    }
    var attrs = Array.prototype.slice.call(node.attributes);
    for (var j = 0; j < attrs.length; j++) {
      var name = attrs[j].name;
      var keep = node.tagName === "A" && (name === "title" || (name === "href" && safeHref(attrs[j].value)));
      if (!keep) node.removeAttribute(name);
    }
    if (node.tagName === "A") { node.target = "_blank"; node.rel = "noopener noreferrer nofollow"; }
    clean(node);
  }
}

function hexColor(c) { return /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.test(c || "") ? c : null; }
function luminance(hex) {
  var h = hex.slice(1);
  if (h.length === 3) h = h.replace(/./g, "$&$&");
  var rgb = [0, 2, 4].map(function (i) {
    var v = parseInt(h.substr(i, 2), 16) / 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2];
}
function contrast(a, b) {
  var la = luminance(a), lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

// -- state ---------------------------------------------------------------------

var pageLang, lang, T;  // set when the launcher is mounted, and again with each thing learnt
var chosenLang = null;  // the member's own choice in the header, kept across page views
var conversationLang = null; // the conversation's language, as the server last said
var config = null;
var state = "bot";      // the conversation's state, as the transport last said
var position = null;    // the place in the queue while waiting
var lastBot = null;     // the last bot/agent message: only its quick replies work
var unread = 0;
var isOpen = false, built = false;

// -- the launcher: first, so it shows within milliseconds -----------------------

var host, root, frame, launcher, badge;

function mountLauncher() {
  pageLang = (document.documentElement.getAttribute("lang") || "").toLowerCase().split("-")[0];
  try { chosenLang = localStorage.getItem(KEY + "language"); } catch (e) { /* no storage */ }
  chooseLanguage();
  host = el("botbuilder-chat");
  root = host.attachShadow({ mode: "open" });
  frame = el("div", "bb");
  launcher = button("launcher", T.open, toggle, "chat");
  launcher.insertAdjacentHTML("beforeend", ICON.close); // shown while the panel is open
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "panel");
  badge = el("span", "badge");
  badge.hidden = true;
  badge.setAttribute("aria-hidden", "true");
  launcher.appendChild(badge);
  frame.appendChild(launcher);
  frame.setAttribute("lang", lang);
  setPosition(data.position);
  root.appendChild(el("style", null, CSS));
  root.appendChild(frame);
  // On <html>, not <body>: a transform on the page's body would otherwise
  // make our fixed-position launcher scroll with the page.
  document.documentElement.appendChild(host);
}

function setPosition(side) {
  frame.classList.toggle("left", side === "left");
}

// Picks the language again from all we know now; true when it changed.
function chooseLanguage() {
  var before = lang;
  lang = pickLanguage({
    chosen: chosenLang, script: data.language, page: pageLang, conversation: conversationLang,
    bot: config ? config.language : "nl", languages: config ? config.languages : null
  });
  T = TEXTS[lang];
  return lang !== before;
}

// The member pressed NL or EN in the header.
function chooseLanguageOf(code) {
  chosenLang = code;
  try { localStorage.setItem(KEY + "language", code); } catch (e) { /* this page view only */ }
  if (chooseLanguage()) { applyTexts(); applyConfig(); }
}

// -- the panel -------------------------------------------------------------------

var panel, titleEl, logoEl, closeBtn, personBtn, newBtn, stateEl, stateText, backBtn, restartBtn,
  langBar, log, privacyEl, welcomeEl, typingEl, typingText, alertEl, alertText, retryBtn, form,
  input, sendBtn, announcer, noticesEl;

function build() {
  if (built) return;
  built = true;
  panel = el("section", "panel");
  panel.id = "panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-labelledby", "title");
  var header = el("header");
  logoEl = el("img");
  logoEl.alt = "";
  logoEl.hidden = true;
  logoEl.addEventListener("error", function () { logoEl.hidden = true; });
  titleEl = el("h2");
  titleEl.id = "title";
  closeBtn = button("close", T.close, close, "close");
  langBar = el("div", "langs");
  langBar.setAttribute("role", "group");
  header.appendChild(logoEl);
  header.appendChild(titleEl);
  header.appendChild(langBar);
  header.appendChild(closeBtn);

  var tools = el("div", "tools");
  personBtn = button("person", T.person, askForPerson);
  newBtn = button("new", T.newConversation, newConversation);
  tools.appendChild(personBtn);
  tools.appendChild(newBtn);

  stateEl = el("div", "state");
  stateEl.hidden = true;
  stateText = el("span");
  stateText.setAttribute("role", "status");
  backBtn = button("restart", T.backToBot, backToBot);
  restartBtn = button("restart", T.startNew, newConversation);
  stateEl.appendChild(stateText);
  stateEl.appendChild(backBtn);
  stateEl.appendChild(restartBtn);

  log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.tabIndex = 0; // scrollable with the keyboard
  // Before the first message: what we keep, and where to read more (bot.yml widget.privacy_url).
  privacyEl = el("p", "privacy");
  log.appendChild(privacyEl);
  welcomeEl = el("p", "welcome");
  welcomeEl.hidden = true;
  log.appendChild(welcomeEl);

  typingEl = el("div", "typing");
  typingEl.setAttribute("role", "status");
  var dots = el("span", "dots");
  dots.setAttribute("aria-hidden", "true");
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  dots.appendChild(el("i"));
  typingText = el("span", "sr");
  typingEl.appendChild(dots);
  typingEl.appendChild(typingText);
  typingEl.hidden = true;

  alertEl = el("div", "alert");
  alertEl.setAttribute("role", "alert");
  alertEl.hidden = true;
  alertText = el("span");
  retryBtn = button("retry", T.retry, function () { transport.retry(); });
  alertEl.appendChild(alertText);
  alertEl.appendChild(retryBtn);

  form = el("form");
  var label = el("label", "sr");
  label.htmlFor = "input";
  input = el("textarea");
  input.id = "input";
  input.rows = 1;
  input.maxLength = 2000;
  input.autocomplete = "off";
  sendBtn = el("button");
  sendBtn.type = "submit";
  sendBtn.innerHTML = ICON.send;
  form.appendChild(label);
  form.appendChild(input);
  form.appendChild(sendBtn);
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); submit(); }
  });
  input.addEventListener("input", grow);

  announcer = el("div", "sr");
  announcer.setAttribute("aria-live", "polite");

  // A manager's announcements (notices.js) sit above everything else in the chat.
  noticesEl = el("div", "notices");
  noticesEl.setAttribute("role", "status");
  noticesEl.hidden = true;

  panel.appendChild(header);
  panel.appendChild(noticesEl);
  panel.appendChild(tools);
  panel.appendChild(stateEl);
  panel.appendChild(log);
  panel.appendChild(typingEl);
  panel.appendChild(alertEl);
  panel.appendChild(form);
  panel.appendChild(announcer);
  panel.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { e.stopPropagation(); close(); }
  });
  frame.appendChild(panel);
  applyTexts();
  applyConfig();
}

// bot.yml's title in the member's language, else its main one, else ours.
function chatTitle() {
  return (config && ((config.titles && config.titles[lang]) || config.title)) || T.title;
}

function applyTexts() {
  var title = chatTitle();
  var action = isOpen ? T.close : T.open;
  launcher.setAttribute("aria-label", action + ": " + title + (unread ? " (" + unread + " " + T.newMessages + ")" : ""));
  launcher.title = action;
  frame.setAttribute("lang", lang);
  if (!built) return;
  titleEl.textContent = title;
  showLanguages();
  closeBtn.setAttribute("aria-label", T.close);
  closeBtn.title = T.close;
  personBtn.textContent = T.person;
  newBtn.textContent = T.newConversation;
  log.setAttribute("aria-label", T.log);
  typingText.textContent = T.typing;
  retryBtn.textContent = T.retry;
  form.querySelector("label").textContent = T.input;
  input.placeholder = T.placeholder;
  sendBtn.setAttribute("aria-label", T.send);
  sendBtn.title = T.send;
  backBtn.textContent = T.backToBot;
  restartBtn.textContent = T.startNew;
  showPrivacy();
  showState();
}

// NL / EN in the header, when the bot speaks more than one language the widget has texts for.
function showLanguages() {
  var codes = ((config && config.languages) || []).filter(function (c) { return TEXTS[c]; });
  var focused = langBar.contains(root.activeElement) ? root.activeElement.getAttribute("lang") : null;
  langBar.textContent = "";
  langBar.hidden = codes.length < 2;
  langBar.setAttribute("aria-label", T.languages);
  codes.forEach(function (code) {
    // "NL" on screen, "NL – Nederlands" to a screen reader, in that language.
    var b = button("lang", code.toUpperCase(), function () { chooseLanguageOf(code); });
    b.setAttribute("lang", code);
    b.appendChild(el("span", "sr", " – " + TEXTS[code].languageName));
    b.setAttribute("aria-pressed", String(code === lang));
    langBar.appendChild(b);
    if (code === focused) b.focus(); // redrawn in the new language: focus stays on the button
  });
}

function showPrivacy() {
  privacyEl.textContent = T.privacy;
  var url = config && config.privacy_url;
  if (url && /^https?:/i.test(url)) {
    var a = el("a", null, T.privacyLink);
    a.href = url;
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    a.appendChild(el("span", "sr", " " + T.newTab));
    privacyEl.appendChild(document.createTextNode(" "));
    privacyEl.appendChild(a);
  }
}

function applyConfig() {
  if (!config) return;
  var color = hexColor(config.color);
  if (color) {
    var on = contrast(color, "#ffffff") >= 4.5 ? "#ffffff" : "#1f2328";
    frame.style.setProperty("--a", color);
    frame.style.setProperty("--on", on);
    frame.style.setProperty("--link", contrast(color, "#eef1f4") >= 4.5 ? color : "#0550ae");
  }
  if (!data.position) setPosition(config.position);
  if (!built) return;
  var welcome = config.welcome && (config.welcome[lang] || config.welcome[config.language]);
  welcomeEl.textContent = welcome || "";
  welcomeEl.hidden = !welcome;
  if (config.logo) {
    try {
      var src = new URL(config.logo, base + "/").href;
      if (/^https?:/.test(src)) { logoEl.src = src; logoEl.hidden = false; }
    } catch (e) { /* not a URL: no logo */ }
  }
}

function grow() {
  input.style.height = "auto";
  input.style.height = Math.min(input.scrollHeight + 2, 120) + "px";
}

// -- opening and closing -----------------------------------------------------------

function toggle() { if (isOpen) close(); else open(true); }

function open(focus) {
  build();
  // A conversation from an earlier page view: its history is drawn and scrolled to
  // the end before the log is shown, so it opens at the newest message, no jump.
  if (transport.restoring()) {
    log.classList.add("loading");
    setTimeout(function () { log.classList.remove("loading"); }, 3000); // never hidden for long
  }
  isOpen = true;
  panel.hidden = false;
  frame.classList.add("open");
  launcher.setAttribute("aria-expanded", "true");
  unread = 0;
  badge.hidden = true;
  applyTexts();
  try { sessionStorage.setItem(KEY + "open", "1"); } catch (e) { /* no storage */ }
  if (focus) (config && config.origin_allowed === false ? closeBtn : input).focus();
  scrollDown();
  if (transport.stale()) transport.sync();
  watchNotices();
}

function close() {
  if (!isOpen) return;
  isOpen = false;
  panel.hidden = true;
  frame.classList.remove("open");
  launcher.setAttribute("aria-expanded", "false");
  applyTexts();
  try { sessionStorage.removeItem(KEY + "open"); } catch (e) { /* no storage */ }
  launcher.focus();
}

// -- member actions -------------------------------------------------------------------

function submit() {
  var text = input.value.trim();
  if (!text || input.disabled) return;
  input.value = "";
  grow();
  transport.send({ text: text });
}

function press(b, row, node) {
  // The options stay in the transcript, disabled, with the chosen one marked; keyboard
  // focus goes on to the text box, not to the page.
  if (row.contains(root.activeElement)) input.focus();
  if (node) node.classList.add("chosen");
  retire(row);
  transport.send({ button: b.id, label: b.label });
}

// A bot message whose quick replies no longer work: they stay visible, disabled.
function retire(row) {
  row.classList.add("old");
  enableReplies(row, false);
}
function enableReplies(row, on) {
  var buttons = row.querySelectorAll("button.reply");
  for (var i = 0; i < buttons.length; i++) {
    buttons[i].disabled = !on;
    if (on) buttons[i].removeAttribute("aria-disabled");
    else buttons[i].setAttribute("aria-disabled", "true");
  }
}

function askForPerson() {
  if (state !== "bot") return;
  var handoff = lastBot && lastBot.buttons.filter(function (b) { return b.id === "handoff"; })[0];
  if (handoff && lastBot.node) press(handoff, lastBot.node, null);
  else transport.send({ text: T.personText }); // a short request for a person is a handoff in the dialogue
}

function backToBot() {
  backBtn.disabled = true;
  transport.backToBot().then(function () { backBtn.disabled = false; input.focus(); });
}

function newConversation() {
  transport.drop();
  var rows = log.querySelectorAll(".msg,.offer,.notice");
  for (var i = 0; i < rows.length; i++) rows[i].remove();
  hideAlert();
  input.disabled = sendBtn.disabled = false;
  transport.sync();
  input.focus();
}

function feedback(message, helpful, bar) {
  var buttons = bar.querySelectorAll("button");
  buttons[0].setAttribute("aria-pressed", String(helpful));
  buttons[1].setAttribute("aria-pressed", String(!helpful));
  transport.feedback(message.id, helpful).then(function () {
    var thanks = bar.querySelector("span") || bar.appendChild(el("span"));
    thanks.textContent = T.thanks;
    if (!helpful && state === "bot" && !bar.offered) { bar.offered = true; offerPerson(); }
  }, function (failure) {
    buttons[0].setAttribute("aria-pressed", "false");
    buttons[1].setAttribute("aria-pressed", "false");
    transport.failed(failure);
  });
}

function offerPerson() {
  var box = el("div", "offer");
  box.appendChild(el("p", null, T.offer));
  box.appendChild(button("reply", T.offerYes, function () { box.remove(); askForPerson(); }));
  log.appendChild(box);
  scrollDown();
}

// -- showing messages -------------------------------------------------------------------

// Messages not on screen yet (the transport keeps track), in the order they came.
var restoring = false; // the history of an earlier page view is on its way
function addMessages(messages, news) {
  build();
  var history = restoring;
  restoring = false;
  var fresh = null;
  messages.forEach(function (m) {
    if (m.role === "member") { memberBubble(m.text).dataset.id = m.id; return; }
    var row = renderReply(m);
    fresh = fresh || row;
  });
  if (fresh && news && !isOpen) {
    unread += 1;
    badge.textContent = String(unread);
    badge.hidden = false;
    applyTexts();
  }
  if (history) scrollDown(); // the newest at once, then shown
  else scrollDown(fresh);
  log.classList.remove("loading");
}

function memberBubble(text) {
  var row = el("div", "msg member");
  row.appendChild(el("span", "sr", T.you + ": "));
  row.appendChild(el("div", "bubble", text));
  log.appendChild(row);
  scrollDown();
  return row;
}

function renderReply(m) {
  var row = el("div", "msg " + (m.role === "agent" ? "agent" : "bot"));
  row.dataset.id = m.id;
  if (m.role === "agent") row.appendChild(el("p", "who", T.agent));
  else row.appendChild(el("span", "sr", T.bot + ": "));
  var bubble = el("div", "bubble");
  if (m.html) { bubble.classList.add("html"); bubble.appendChild(safeFragment(m.html)); }
  else bubble.textContent = m.text;
  row.appendChild(bubble);
  var buttons = m.buttons || [];
  if (buttons.length) {
    var replies = el("div", "replies");
    buttons.forEach(function (b) {
      if (b.url) {
        if (!/^https?:/i.test(b.url)) return;
        var a = el("a", "reply", b.label);
        a.href = b.url;
        a.target = "_blank";
        a.rel = "noopener noreferrer";
        a.appendChild(el("span", "sr", " " + T.newTab));
        replies.appendChild(a);
      } else {
        var node = button("reply", b.label, function () { press(b, row, node); });
        replies.appendChild(node);
      }
    });
    row.appendChild(replies);
  }
  if (m.role === "bot" && m.decision === "answer" && m.intent) {
    var bar = el("div", "fb");
    bar.appendChild(button("up", T.helpful, function () { feedback(m, true, bar); }, "up"));
    bar.appendChild(button("down", T.notHelpful, function () { feedback(m, false, bar); }, "down"));
    bar.firstChild.setAttribute("aria-pressed", "false");
    bar.lastChild.setAttribute("aria-pressed", "false");
    row.appendChild(bar);
  }
  if (lastBot && lastBot.node) retire(lastBot.node);
  lastBot = { buttons: buttons, node: row };
  if (state !== "bot") enableReplies(row, false);
  log.appendChild(row);
  return row;
}

function notice(text) {
  build();
  log.appendChild(el("p", "welcome notice", text));
}

// To the end, unless the first new answer is taller than the view: then to its start.
function scrollDown(first) {
  if (!log) return;
  log.scrollTop = first && log.scrollHeight - first.offsetTop > log.clientHeight
    ? first.offsetTop - 8 : log.scrollHeight;
}

function showStateChange(next, place) {
  var was = state;
  state = next;
  position = place || null;
  if (!built) return;
  // Only in `bot` do the last message's quick replies work; shown disabled otherwise.
  if (lastBot && lastBot.node && !lastBot.node.classList.contains("old") && was !== state) {
    enableReplies(lastBot.node, state === "bot");
  }
  frame.classList.toggle("waiting", state === "waiting");
  frame.classList.toggle("agent-state", state === "agent");
  frame.classList.toggle("closed", state === "closed");
  showState();
  if (state !== "bot") {
    var offers = log.querySelectorAll(".offer");
    for (var i = 0; i < offers.length; i++) offers[i].remove();
  }
}

// The state bar: waiting (with the place in the queue and the way back to the bot),
// with an agent, or closed (with a new start). Its buttons are made once, so
// a poll that says the same again does not take the member's focus away.
function showState() {
  var text = state === "waiting" ? T.waiting : state === "agent" ? T.agentState : state === "closed" ? T.closed : "";
  if (state === "waiting" && position) text += " " + fill(T.position, { position: position });
  if (stateText.textContent !== text) stateText.textContent = text;
  stateEl.hidden = !text;
  backBtn.hidden = state !== "waiting";
  restartBtn.hidden = state !== "closed";
  personBtn.hidden = state !== "bot";
  input.disabled = sendBtn.disabled = state === "closed" || (config && config.origin_allowed === false);
}

function showTyping(on) { if (built) typingEl.hidden = !on; if (on) scrollDown(); }
function showAlert(text, retry) {
  build();
  log.classList.remove("loading");
  alertText.textContent = text;
  retryBtn.hidden = !retry;
  alertEl.hidden = false;
}
function hideAlert() { if (built) alertEl.hidden = true; }

function markPending(item) {
  if (!item.node) return;
  item.node.classList.add("pending");
  setNote(item, T.notSent);
}
function setNote(item, text) {
  if (!item.node) return;
  var note = item.node.querySelector(".note");
  if (!text) { if (note) note.remove(); return; }
  if (!note) { note = el("p", "note"); item.node.appendChild(note); }
  note.textContent = text;
}

function useConfig(json) {
  config = json;
  chooseLanguage();
  if (config.origin_allowed === false && window.console) {
    console.warn("botbuilder: " + location.origin + " is not in widget.allowed_origins in the bot.yml of " +
      base + "; add it there to use the chat on this site.");
  }
  applyTexts();
  applyConfig();
}

// -- what the transport may ask of the screen ----------------------------------------------
// A queued message (`item`) carries its bubble as `item.node` once it has one.

var hooks = {
  config: useConfig,
  language: function () { return lang; },
  // The conversation's language (it follows the member's messages): the texts may follow it.
  heard: function (language) {
    conversationLang = language;
    if (chooseLanguage()) { applyTexts(); applyConfig(); }
  },
  isOpen: function () { return isOpen; },
  hasPanel: function () { return built; },
  typing: showTyping,
  messages: addMessages,
  state: showStateChange,
  forget: function () { lastBot = null; },
  notice: function (key) { notice(T[key]); },
  alert: function (key, retry, values) { showAlert(fill(T[key], values || {}), retry); },
  hideAlert: hideAlert,
  refuse: function () {
    showAlert(T.refused, false);
    input.disabled = sendBtn.disabled = personBtn.disabled = newBtn.disabled = true;
  },
  // The history is not news: screen readers should not read it all out.
  quiet: function () {
    build();
    restoring = true;
    log.setAttribute("aria-live", "off");
    setTimeout(function () { log.setAttribute("aria-live", "polite"); }, 50);
  },
  bubble: function (item) {
    build();
    if (!item.node) item.node = memberBubble(item.label || item.text);
  },
  pending: markPending,
  sending: function (item) {
    if (!item.node) item.node = memberBubble(item.label || item.text);
    item.node.classList.remove("pending", "failed");
    setNote(item, "");
  },
  sent: function (item, id) {
    if (!item.node) return;
    item.node.classList.remove("pending");
    if (id) item.node.dataset.id = id;
  },
  notSent: function (item, key) {
    item.node.classList.add("failed");
    setNote(item, T.failed + ": " + T[key]);
  }
};
