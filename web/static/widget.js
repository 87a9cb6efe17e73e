// Built by tools/build_widget.py from web/widget/ (texts.js, style.js, transport.js, view.js, notices.js, main.js): edit those, then run `make widget`.
/*
 * botbuilder chat widget: one tag on any site.
 *
 *   <script src="https://bot.example.org/widget.js" defer
 *           data-language="nl" data-position="right" data-open="false"></script>
 *
 * Plain JavaScript, no framework, no requests beyond the server this script
 * came from (or `data-server`). Everything the widget shows that comes from a
 * member, an agent or a flow goes in through textContent, except the `html`
 * field of bot and agent messages: the server sanitizes it (markdown-it with
 * raw HTML off, then nh3), and `safeFragment` below re-checks it against the
 * same short allow-list, so one mistake on either side is not enough for a
 * script to run.
 *
 * Why Shadow DOM and not an iframe:
 * - One request and no second document: the launcher is in the page within a
 *   few milliseconds of this script running; an iframe would load another
 *   HTML page (and its script) on every page view before it could show anything.
 * - The panel is part of the page's focus order and accessibility tree, so
 *   Tab, Escape and "focus returns to the launcher" work natively, screen
 *   readers announce the live region like any page content, and the page's
 *   viewport, zoom and prefers-reduced-motion apply directly. Across an iframe
 *   each of these needs postMessage plumbing and still behaves worse.
 * - Isolation is enough: host selectors cannot reach into a shadow tree and
 *   ours cannot leak out. What does cross is inheritance (font, colour,
 *   line-height…) and rules that match the host element itself; `:host` resets
 *   all of it with `all: initial !important`, and in the cascade an !important
 *   declaration of the shadow context beats the page's !important, so even
 *   `* { display: none !important }` cannot hide the widget.
 * - An iframe's separate JavaScript realm would protect nothing that matters:
 *   the host page runs this script anyway, and member, agent and flow content
 *   is never executed here.
 * The shadow root is open: a closed one adds no protection against a page
 * that could patch attachShadow before we run, and it would hide the widget
 * from testing tools and browser extensions that help people read pages.
 */
(function () {
  "use strict";

  // Everything the widget says, per language. The view picks one table (`T`)
  // with `pickLanguage` below; the transport names its alerts by key
  // (`"offline"`, `"busy"`…) so it needs no table of its own.
  var TEXTS = {
    nl: {
      open: "Open de chat", close: "Sluit de chat", title: "Chat",
      newMessages: "nieuwe berichten", input: "Je bericht", placeholder: "Typ je vraag…",
      send: "Verstuur", person: "Medewerker spreken", newConversation: "Nieuw gesprek",
      personText: "Ik wil een medewerker spreken", typing: "Er wordt getypt…",
      you: "Jij", bot: "Bot", agent: "Medewerker", log: "Gesprek",
      helpful: "Dit antwoord hielp", notHelpful: "Dit antwoord hielp niet",
      thanks: "Bedankt voor je reactie!",
      offer: "Jammer dat dit niet hielp. Wil je met een medewerker praten?",
      offerYes: "Ja, met een medewerker", newTab: "(opent in een nieuw tabblad)",
      waiting: "Je wacht op een medewerker. Je kunt hier alvast verder typen.",
      agentState: "Je praat nu met een medewerker.",
      closed: "Dit gesprek is gesloten.", startNew: "Begin een nieuw gesprek",
      retry: "Opnieuw proberen", notSent: "Nog niet verstuurd", failed: "Niet verstuurd",
      offline: "Je bent offline. Je bericht wordt verstuurd zodra je weer verbinding hebt.",
      network: "We kunnen de chat nu niet bereiken. Controleer je verbinding; we proberen het zo opnieuw.",
      server: "Er ging iets mis aan onze kant. Probeer het zo nog eens.",
      busy: "Het is even erg druk. Probeer het over een paar seconden opnieuw.",
      tooLong: "Je bericht is te lang. Maak het korter en probeer het opnieuw.",
      stale: "Die keuze kan nu niet meer. Typ je vraag, dan help ik je verder.",
      isClosed: "Dit gesprek is al gesloten. Begin een nieuw gesprek om verder te gaan.",
      expired: "Je vorige gesprek bestaat niet meer, dus we zijn een nieuw gesprek begonnen.",
      refused: "Deze chat is niet beschikbaar op deze website. Neem op een andere manier contact met ons op.",
      slow: "Even rustig aan — probeer het over {seconds} seconden opnieuw.",
      backToBot: "Stop met wachten, terug naar de bot",
      position: "Je bent nummer {position} in de wachtrij.",
      privacy: "We bewaren dit gesprek om je te kunnen helpen.",
      privacyLink: "Zo gaan we om met je gegevens",
      languages: "Taal van de chat",
      languageName: "Nederlands"
    },
    en: {
      open: "Open the chat", close: "Close the chat", title: "Chat",
      newMessages: "new messages", input: "Your message", placeholder: "Type your question…",
      send: "Send", person: "Talk to a person", newConversation: "New conversation",
      personText: "I want to talk to a person", typing: "Typing…",
      you: "You", bot: "Bot", agent: "Staff member", log: "Conversation",
      helpful: "This answer helped", notHelpful: "This answer did not help",
      thanks: "Thanks for letting us know!",
      offer: "Sorry that didn't help. Would you like to talk to a person?",
      offerYes: "Yes, talk to a person", newTab: "(opens in a new tab)",
      waiting: "You're waiting for a staff member. You can keep typing here.",
      agentState: "You're now talking to a staff member.",
      closed: "This conversation is closed.", startNew: "Start a new conversation",
      retry: "Try again", notSent: "Not sent yet", failed: "Not sent",
      offline: "You're offline. Your message will be sent as soon as you're back online.",
      network: "We can't reach the chat right now. Check your connection; we'll try again shortly.",
      server: "Something went wrong on our side. Please try again in a moment.",
      busy: "It's very busy right now. Please try again in a few seconds.",
      tooLong: "Your message is too long. Please shorten it and try again.",
      stale: "That choice is no longer available. Type your question and I'll help you.",
      isClosed: "This conversation is already closed. Start a new one to continue.",
      expired: "Your previous conversation no longer exists, so we started a new one.",
      refused: "This chat isn't available on this website. Please contact us another way.",
      slow: "Easy does it — please try again in {seconds} seconds.",
      backToBot: "Stop waiting, back to the bot",
      position: "You are number {position} in the queue.",
      privacy: "We keep this conversation so we can help you.",
      privacyLink: "How we handle your data",
      languages: "Chat language",
      languageName: "English"
    }
  };

  // The language of the widget's own texts, the first of these that the widget
  // has texts for and the bot speaks (`languages`, once the settings are in):
  // the member's own choice in the header, the script tag's data-language, the
  // page's <html lang>, the conversation's language (the server follows the
  // language of the member's messages), and else the bot's main language.
  function pickLanguage(o) {
    var order = [o.chosen, o.script, o.page, o.conversation, o.bot];
    for (var i = 0; i < order.length; i++) {
      var code = String(order[i] || "").toLowerCase().split("-")[0];
      if (code && TEXTS[code] && (!o.languages || o.languages.indexOf(code) >= 0)) return code;
    }
    return TEXTS[o.bot] ? o.bot : "en";
  }

  // "{seconds}" and the like filled in; a missing value leaves the text as it is.
  function fill(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, name) { return values[name] != null ? values[name] : all; });
  }

  // How the widget looks: its icons and its one stylesheet, which lives in the
  // shadow root (see header.js), so nothing here can reach the host page.

  // Our own constant markup (icons), never data: the only innerHTML besides safeFragment.
  var ICON = {
    chat: '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>',
    close: '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6 6l12 12M18 6L6 18" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" fill="none"/></svg>',
    send: '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M3 20l18-8L3 4v6l12 2-12 2z"/></svg>',
    up: '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M2 10h4v11H2zM8 21h9.5a2 2 0 0 0 2-1.6l1.4-7A2 2 0 0 0 19 10h-5.5l.8-4.2A2 2 0 0 0 12.4 3.5L8 9z"/></svg>',
    down: '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M22 14h-4V3h4zM16 3H6.5a2 2 0 0 0-2 1.6l-1.4 7A2 2 0 0 0 5 14h5.5l-.8 4.2a2 2 0 0 0 1.9 2.3L16 15z"/></svg>'
  };

  var CSS = [
    /* The host element: reset everything the page could inherit into it or set on it. */
    ":host{all:initial!important;display:block!important;position:static!important;",
    "visibility:visible!important;opacity:1!important;transform:none!important;filter:none!important}",
    ".bb{--a:#0b6e4f;--on:#fff;--link:#0b6e4f;font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,",
    "'Helvetica Neue',Arial,sans-serif;color:#1f2328;-webkit-font-smoothing:antialiased;text-align:left}",
    ".bb *,.bb *::before,.bb *::after{box-sizing:border-box}",
    "[hidden]{display:none!important}",
    ".sr{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}",
    "button,textarea{font:inherit;color:inherit;margin:0}",
    "button{cursor:pointer}",
    "svg{width:22px;height:22px;fill:currentColor;display:block}",
    ":focus-visible{outline:3px solid #1f2328;outline-offset:2px}",
    ".launcher{position:fixed;z-index:2147483000;bottom:20px;right:20px;width:60px;height:60px;border-radius:50%;",
    "border:0;background:var(--a);color:var(--on);display:flex;align-items:center;justify-content:center;",
    "box-shadow:0 4px 14px rgba(0,0,0,.28);transition:transform .15s ease}",
    ".launcher svg{width:28px;height:28px}",
    ".launcher svg+svg,.open .launcher svg:first-child{display:none}.open .launcher svg+svg{display:block}",
    ".launcher:hover{transform:scale(1.06)}",
    ".launcher:focus-visible{outline:none;box-shadow:0 0 0 3px #fff,0 0 0 6px #1f2328}",
    ".left .launcher{right:auto;left:20px}",
    ".badge{position:absolute;top:-2px;right:-2px;min-width:22px;height:22px;padding:0 6px;border-radius:11px;",
    "background:#b3261e;color:#fff;font-size:13px;font-weight:700;line-height:22px;text-align:center}",
    ".panel{position:fixed;z-index:2147483000;bottom:92px;right:20px;width:380px;height:min(620px,calc(100vh - 112px));",
    "display:flex;flex-direction:column;background:#fff;border-radius:14px;overflow:hidden;",
    "box-shadow:0 10px 40px rgba(0,0,0,.28);animation:bb-in .18s ease-out}",
    ".left .panel{right:auto;left:20px}",
    "@keyframes bb-in{from{opacity:0;transform:translateY(12px)}to{opacity:1;transform:none}}",
    "header{display:flex;align-items:center;gap:10px;padding:12px 10px 12px 16px;background:var(--a);color:var(--on)}",
    "header img{width:32px;height:32px;border-radius:50%;object-fit:cover;background:#fff}",
    "h2{flex:1;margin:0;font-size:17px;font-weight:650;line-height:1.25}",
    "header button{border:0;background:transparent;color:inherit;width:40px;height:40px;border-radius:8px;",
    "display:flex;align-items:center;justify-content:center}",
    "header :focus-visible{outline-color:var(--on);outline-offset:-3px}",
    ".langs{display:flex;gap:4px}",
    "header .lang{width:auto;height:28px;padding:0 7px;border:1px solid currentColor;border-radius:6px;font-size:12px;font-weight:650}",
    "header .lang[aria-pressed=true]{background:var(--on);color:var(--a)}",
    ".tools{display:flex;gap:8px;padding:8px 12px;border-bottom:1px solid #d8dee4;background:#f6f8fa}",
    ".tools button{border:1px solid #8c959f;background:#fff;border-radius:16px;padding:4px 12px;font-size:14px}",
    ".tools button:hover{background:#eaeef2}",
    ".notices{padding:8px 14px;background:#fdecea;border-bottom:1px solid #c62828;color:#5f1111;font-size:14px}",
    ".notices p{margin:0}.notices p+p{margin-top:6px}",
    ".state{padding:8px 14px;background:#fff8c5;border-bottom:1px solid #d4a72c;font-size:14px}",
    ".state .restart{display:block;margin-top:6px}",
    ".log{flex:1;overflow-y:auto;position:relative;padding:14px;display:flex;flex-direction:column;gap:10px;overscroll-behavior:contain}",
    ".welcome{margin:0 0 4px;color:#57606a;font-size:14px}",
    ".msg{display:flex;flex-direction:column;max-width:88%;align-self:flex-start}",
    ".msg.member{align-self:flex-end;align-items:flex-end}",
    ".who{font-size:12px;color:#57606a;margin:0 0 2px 4px}",
    ".bubble{padding:9px 13px;border-radius:14px;background:#eef1f4;overflow-wrap:anywhere;white-space:pre-wrap}",
    ".bubble.html{white-space:normal}",
    ".bubble p{margin:0 0 8px}.bubble p:last-child{margin:0}",
    ".bubble ul,.bubble ol{margin:4px 0 8px;padding-left:22px}",
    ".bubble code{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:90%;background:rgba(0,0,0,.06);padding:0 3px;border-radius:3px}",
    ".bubble a{color:var(--link);text-decoration:underline}",
    ".member .bubble{background:var(--a);color:var(--on);border-bottom-right-radius:4px}",
    ".bot .bubble{border-bottom-left-radius:4px}",
    ".agent .bubble{background:#fff;border:2px solid var(--a);border-bottom-left-radius:4px}",
    ".note{font-size:12px;color:#57606a;margin:3px 4px 0}",
    ".failed .note{color:#a40e26}",
    ".pending .bubble{opacity:.75}",
    ".replies{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px}",
    ".reply,.restart{border:1.5px solid var(--link);color:var(--link);background:#fff;border-radius:16px;padding:5px 12px;",
    "font-size:14px;text-decoration:none;text-align:left;line-height:1.3}",
    ".reply:hover{background:#f3f6f8}",
    /* Options that no longer work stay in the transcript, disabled; the one chosen is marked. */
    ".reply:disabled{cursor:default;border:1.5px dashed #8c959f;color:#57606a;background:#fff}",
    ".reply.chosen:disabled{border-style:solid;border-color:#57606a;background:#eef1f4;color:#1f2328}",
    ".log.loading{visibility:hidden}",
    ".privacy{margin:0;color:#57606a;font-size:12px}",
    ".privacy a{color:var(--link)}",
    ".fb{display:flex;gap:4px;margin:4px 0 0 2px;align-items:center}",
    ".fb button{border:1px solid transparent;background:transparent;color:#57606a;border-radius:6px;width:32px;height:30px;",
    "display:flex;align-items:center;justify-content:center}",
    ".fb svg{width:17px;height:17px}",
    ".fb button:hover{background:#eef1f4}",
    ".fb button[aria-pressed=true]{color:#fff;background:#57606a}",
    ".fb span{font-size:12px;color:#57606a;margin-left:4px}",
    ".offer{align-self:flex-start;background:#f6f8fa;border:1px solid #d8dee4;border-radius:10px;padding:8px 12px;font-size:14px}",
    ".offer p{margin:0 0 6px}",
    ".typing{padding:0 14px 8px;display:flex}",
    ".dots{display:flex;gap:4px;padding:11px 14px;background:#eef1f4;border-radius:14px}",
    ".dots i{width:7px;height:7px;border-radius:50%;background:#57606a;animation:bb-dot 1.2s infinite ease-in-out}",
    ".dots i:nth-child(2){animation-delay:.15s}.dots i:nth-child(3){animation-delay:.3s}",
    "@keyframes bb-dot{0%,60%,100%{transform:none;opacity:.45}30%{transform:translateY(-4px);opacity:1}}",
    ".alert{margin:0 12px 8px;padding:9px 12px;border:1px solid #cf222e;background:#fff1f0;color:#82071e;",
    "border-radius:8px;font-size:14px}",
    ".alert button{display:block;margin-top:6px;border:1px solid #82071e;background:#fff;color:#82071e;",
    "border-radius:6px;padding:3px 10px;font-size:14px}",
    "form{display:flex;gap:8px;align-items:flex-end;padding:10px 12px;border-top:1px solid #d8dee4}",
    "textarea{flex:1;resize:none;border:1px solid #6e7781;border-radius:10px;padding:9px 11px;font-size:16px;",
    "line-height:1.35;max-height:120px;background:#fff;min-height:42px}",
    "textarea::placeholder{color:#6e7781;opacity:1}",
    "textarea:focus-visible{outline-offset:0}",
    "form button{width:42px;height:42px;border:0;border-radius:10px;background:var(--a);color:var(--on);",
    "display:flex;align-items:center;justify-content:center;flex:none}",
    "form button:disabled,textarea:disabled{opacity:.5;cursor:not-allowed}",
    "@media (max-width:520px){.panel,.left .panel{inset:0;width:100%;height:100%;border-radius:0}",
    ".open .launcher{display:none}}",
    "@media (prefers-reduced-motion:reduce){*,*::before,*::after{animation:none!important;transition:none!important}}",
    "@media (forced-colors:active){.bubble,.launcher,.panel{border:1px solid CanvasText}}"
  ].join("");

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

  // A manager's announcements (a cancelled ride, an outage), shown at the top of the open
  // chat. Asked for every second while the chat is open and the page visible; the server
  // answers with an ETag and the browser revalidates, so an unchanged list costs a 304.

  var noticesTimer = null;

  function watchNotices() {
    if (noticesTimer === null) checkNotices();
  }

  function checkNotices() {
    noticesTimer = isOpen ? setTimeout(checkNotices, 1000) : null;
    if (!isOpen || document.hidden || !built) return;
    // A language the bot does not speak would be refused: then the bot's own is asked for.
    var known = config && config.languages && config.languages.indexOf(lang) >= 0;
    var query = known ? "?language=" + encodeURIComponent(lang) : "";
    fetch(base + "/api/v1/announcements" + query, { credentials: "omit" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (json) { if (json) showNotices(json.announcements || []); })
      .catch(function () { /* offline or refused: keep what is shown */ });
  }

  function showNotices(list) {
    var shown = Array.prototype.map.call(noticesEl.children, function (p) { return p.textContent; });
    var texts = list.map(function (a) { return String(a.text || ""); });
    if (shown.join("\n") === texts.join("\n")) return;
    noticesEl.replaceChildren();
    texts.forEach(function (text) { noticesEl.appendChild(el("p", "notice", text)); });
    noticesEl.hidden = texts.length === 0;
  }

  // Start-up, in the order that keeps the launcher fast: read the script tag,
  // show the launcher, then ask for the settings, and only then read storage
  // (its first read can take a while) to pick up a conversation or a queue left
  // by the last page view.

  var perf = window.performance;
  if (perf && perf.mark) perf.mark("botbuilder:start");
  if (window.__botbuilderWidget) return; // pasted twice: one widget
  window.__botbuilderWidget = true;

  var script = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var data = (script && script.dataset) || {};
  var base = (data.server || (script && script.src) || location.href)
    .replace(/\/widget\.js(\?.*)?$/, "").replace(/\/+$/, "");
  var KEY = "botbuilder:" + base + ":";

  mountLauncher();
  if (perf && perf.mark) {
    perf.mark("botbuilder:launcher-shown");
    try { perf.measure("botbuilder:launcher", "botbuilder:start", "botbuilder:launcher-shown"); } catch (e) { /* old browser */ }
  }

  // Message keys from the browser's cryptographic random source, never Math.random.
  function randomId() {
    var c = window.crypto;
    if (c && c.randomUUID) return c.randomUUID();
    var bytes = new Uint8Array(16), id = "";
    c.getRandomValues(bytes);
    for (var i = 0; i < bytes.length; i++) id += ("0" + bytes[i].toString(16)).slice(-2);
    return id;
  }

  var transport = createTransport({
    api: base + "/api/v1",
    fetch: fetch,
    setTimeout: setTimeout,
    clearTimeout: clearTimeout,
    AbortController: window.AbortController,
    storage: {
      load: function (name, fallback) {
        try { var v = localStorage.getItem(KEY + name); return v == null ? fallback : JSON.parse(v); }
        catch (e) { return fallback; } // storage off (private mode) or garbage: start fresh
      },
      save: function (name, value) {
        try {
          if (value == null) localStorage.removeItem(KEY + name);
          else localStorage.setItem(KEY + name, JSON.stringify(value));
        } catch (e) { /* storage full or off: the chat still works for this page view */ }
      }
    },
    offline: function () { return navigator.onLine === false; },
    hidden: function () { return document.hidden; },
    randomId: randomId
  }, hooks);

  window.addEventListener("online", transport.online);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) transport.visible(); });

  var waiting = transport.restore(); // waiting for an agent, or messages to send
  var remembered = false;
  try { remembered = sessionStorage.getItem(KEY + "open") === "1"; } catch (e) { /* no storage */ }
  if (data.open === "true" || remembered) open(false);
  else if (waiting) transport.sync();
})();
