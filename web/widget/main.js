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
